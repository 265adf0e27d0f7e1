// The worker pool: every index is covered exactly once for many (n, grain, threads); small work
// and nested calls run on the calling thread; several OS threads may call parallel_for at once
// (the loser runs inline); resizing works; an exception thrown in a chunk reaches the caller.
#include <algorithm>
#include <chrono>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cpu/threadpool.h"
#include "tests/test_util.h"

using namespace gf;
using namespace gf::test;

int main() {
  for (int threads : {1, 2, 3, 8}) {
    set_num_threads(threads);
    check(num_threads() == threads, "num_threads after set_num_threads(" + std::to_string(threads) + ")");
    for (int64_t n : {0, 1, 7, 33, 1000, 100003}) {
      for (int64_t grain : {1, 7, 1000, 1 << 20}) {
        std::vector<std::atomic<int>> hits(n);
        for (auto& h : hits) h = 0;
        std::atomic<int> bad_range{0};
        parallel_for(n, grain, [&](int64_t b, int64_t e) {
          if (b < 0 || e > n || b >= e) bad_range++;
          for (int64_t i = b; i < e; ++i) hits[i]++;
        });
        bool once = std::all_of(hits.begin(), hits.end(), [](const std::atomic<int>& h) { return h == 1; });
        check(once && bad_range == 0, "every index once: threads=" + std::to_string(threads) +
                                          " n=" + std::to_string(n) + " grain=" + std::to_string(grain));
      }
    }
  }

  set_num_threads(2);
  // Work within one grain never leaves the caller.
  {
    const auto me = std::this_thread::get_id();
    bool same = true;
    parallel_for(100, 1000, [&](int64_t, int64_t) { same = same && std::this_thread::get_id() == me; });
    check(same, "small work runs on the calling thread");
  }
  // Large work does use more than one thread when the pool has two.
  {
    std::atomic<int> on_worker{0};
    const auto me = std::this_thread::get_id();
    parallel_for(64, 1, [&](int64_t, int64_t) {
      if (std::this_thread::get_id() != me) on_worker++;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    check(on_worker > 0, "a worker thread takes part in large work");
  }
  // A job of fewer than kWakeGrains grains does not wake a worker that sleeps (its spin is long
  // over after 20 ms idle): it runs on the caller; Wake::Always offers it to the pool.
  {
    const auto me = std::this_thread::get_id();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    bool same = true;
    const bool forked = parallel_for(4 * 100, 100, [&](int64_t, int64_t) {
      same = same && std::this_thread::get_id() == me;
    });
    check(!forked && same, "a small job leaves sleeping workers asleep");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::atomic<int64_t> covered{0};
    const bool offered = parallel_for(4 * 100, 100, [&](int64_t b, int64_t e) { covered += e - b; },
                                      Wake::Always);
    check(offered && covered == 400, "Wake::Always offers a small job to sleeping workers");
  }
  // Chunks are finer than a grain (a late worker holds back little) but not below grain / 8,
  // and there are at most 16 per thread.
  {
    std::atomic<int64_t> chunks{0}, smallest{1 << 30};
    parallel_for(100000, 8000, [&](int64_t b, int64_t e) {
      chunks++;
      int64_t cur = smallest.load();
      while (e - b < cur && !smallest.compare_exchange_weak(cur, e - b)) {}
    }, Wake::Always);
    check(chunks > 100000 / 8000 && chunks <= 2 * 16 && smallest >= 8000 / 8,
          "chunks: " + std::to_string(chunks.load()) + ", smallest " + std::to_string(smallest.load()));
  }
  // Nested parallel_for runs inline (no deadlock) and still covers everything.
  {
    std::atomic<int64_t> total{0};
    parallel_for(8, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        parallel_for(1000, 10, [&](int64_t b2, int64_t e2) { total += e2 - b2; });
    });
    check(total == 8000, "nested parallel_for covers everything");
  }
  // Concurrent callers from several OS threads (as libuv workers would be).
  {
    std::atomic<int64_t> total{0};
    std::vector<std::thread> callers;
    for (int t = 0; t < 4; ++t)
      callers.emplace_back([&] {
        for (int r = 0; r < 50; ++r)
          parallel_for(10000, 100, [&](int64_t b, int64_t e) { total += e - b; });
      });
    for (auto& t : callers) t.join();
    check(total == 4 * 50 * 10000, "concurrent callers each get their whole range");
  }
  // An exception in a chunk reaches the caller, and the pool still works afterwards.
  {
    bool caught = false;
    try {
      parallel_for(1000, 1, [&](int64_t b, int64_t) {
        if (b > 500) throw std::runtime_error("boom");
      });
    } catch (const std::runtime_error&) {
      caught = true;
    }
    check(caught, "exception propagates to the caller");
    std::atomic<int64_t> total{0};
    parallel_for(1000, 1, [&](int64_t b, int64_t e) { total += e - b; });
    check(total == 1000, "pool usable after an exception");
  }
  // Many short jobs back to back, with more threads than this machine has cores, so workers
  // are often descheduled and join late: a late worker must never run a chunk of a job that
  // has already returned (the count would exceed n, or the callable would be dangling), and
  // every job still covers its whole range.
  for (int threads : {2, 3, 8}) {
    set_num_threads(threads);
    bool all_exact = true;
    for (int r = 0; r < 20000; ++r) {
      std::atomic<int64_t> covered{0};
      const int64_t n = 1 + r % 37;
      parallel_for(n, 1, [&](int64_t b, int64_t e) { covered += e - b; });
      all_exact = all_exact && covered == n;
    }
    check(all_exact, "20000 short jobs each covered exactly once, threads=" + std::to_string(threads));
  }
  // AdaptiveParallel, fed synthetic timings: it settles on the faster mode, keeps exploring the
  // other (rarely, when it keeps losing), and follows a change of conditions.
  {
    AdaptiveParallel site;
    const double work = 1e6;
    auto run = [&](int calls, double pool_sec, double inline_sec) {
      int pooled = 0;
      for (int i = 0; i < calls; ++i) {
        const bool p = site.choose(work);
        pooled += p;
        site.record(p, work, p ? pool_sec : inline_sec);
      }
      return pooled;
    };
    // The pool is 2x faster: after the warm-up nearly every call takes it.
    int pooled = run(1000, 1e-3, 2e-3);
    check(site.prefers_pool(work) && pooled > 950, "prefers the pool when it is 2x faster (" + std::to_string(pooled) + "/1000)");
    // Conditions flip (the pool gets 4x slower than inline): it switches within a few dozen calls
    // and then runs on the pool only to explore, at most once per kMinInterval calls and fewer
    // as the choice keeps being confirmed.
    pooled = run(100, 8e-3, 2e-3);
    check(!site.prefers_pool(work), "switches to the calling thread when the pool turns slow");
    check(pooled < 40, "the switch takes few calls (" + std::to_string(pooled) + " pooled of 100)");
    pooled = run(2000, 8e-3, 2e-3);
    check(pooled >= 5 && pooled <= (2000 / AdaptiveParallel::kMaxInterval + 4) * AdaptiveParallel::kBurst,
          "still explores the slow pool, rarely (" + std::to_string(pooled) + " of 2000)");
    // Back to a fast pool: the next exploration sees it and the site returns to it.
    pooled = run(2 * AdaptiveParallel::kMaxInterval + 200, 0.5e-3, 2e-3);
    check(site.prefers_pool(work), "returns to the pool when it is fast again");
    // A different size of work is a different bucket, with its own history.
    check(!site.prefers_pool(1e3), "an untried size starts on the calling thread");
    // Outliers do not flip it: the pool 2x faster, but every 8th pooled call 10x slower (a
    // worker descheduled while it held a chunk).
    {
      AdaptiveParallel noisy;
      int pooled_calls = 0, pooled_count = 0, flips = 0;
      for (int i = 0; i < 1000; ++i) {
        const bool p = noisy.choose(work);
        pooled_count += p;
        const double t = p ? (++pooled_calls % 8 == 0 ? 10e-3 : 1e-3) : 2e-3;
        noisy.record(p, work, t);
        flips += i >= 10 && !noisy.prefers_pool(work);
      }
      check(flips == 0 && pooled_count > 950, "keeps the pool through outliers (" +
                                                  std::to_string(pooled_count) + "/1000 pooled, " +
                                                  std::to_string(flips) + " calls preferring the caller)");
    }
    // Exploring takes a bounded share of the time: with the pool 2x faster, the calls made on
    // the calling thread to re-check it cost at most ~1/kExploreGap of the total from the start
    // (counted in calls alone, bursts after 16, 32, 64 calls took 7.7% of the first 300).
    {
      AdaptiveParallel fresh;
      double total = 0, exploring = 0;
      for (int i = 0; i < 300; ++i) {
        const bool p = fresh.choose(work);
        const double t = p ? 1e-3 : 2e-3;
        fresh.record(p, work, t);
        if (i >= 4) {  // after each mode's first two calls
          total += t;
          if (!p) exploring += t;
        }
      }
      check(exploring > 0 && exploring <= total / AdaptiveParallel::kExploreGap,
            "explorations take at most 1/kExploreGap of the time (" + std::to_string(exploring / total) + ")");
    }
    // Nonsense timings are ignored rather than poisoning the averages.
    site.record(true, work, -1.0);
    site.record(true, 0.0, 1.0);
    check(site.prefers_pool(work), "ignores negative times and zero work");
  }
  // parallel_for through a site covers every index once whichever mode it picks.
  {
    set_num_threads(2);
    AdaptiveParallel site;
    bool exact = true;
    for (int r = 0; r < 200; ++r) {
      std::atomic<int64_t> covered{0};
      parallel_for(site, 1e6, 1000, 10, [&](int64_t b, int64_t e) { covered += e - b; });
      exact = exact && covered == 1000;
    }
    check(exact, "parallel_for(site, ...) covers every index once");
  }
  set_num_threads(1);
  check(num_threads() == 1, "resize down to 1");
  return finish("test_threadpool");
}

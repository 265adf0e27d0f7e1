// The worker pool: every index is covered exactly once for many (n, grain, threads); small work
// and nested calls run on the calling thread; several OS threads may call parallel_for at once
// (the loser runs inline); resizing works; an exception thrown in a chunk reaches the caller.
#include <algorithm>
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
  set_num_threads(1);
  check(num_threads() == 1, "resize down to 1");
  return finish("test_threadpool");
}

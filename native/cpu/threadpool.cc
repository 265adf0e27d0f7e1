// The process-wide worker pool behind gf::parallel_for.
// Design: n-1 persistent workers. The caller publishes a job (function, range, chunk count) by
// bumping an atomic job word, wakes sleeping workers, takes chunks itself from a shared atomic
// counter, closes the job once every chunk is claimed, and waits only for the workers that are
// inside it. A worker that wakes late (its vCPU descheduled, as happens on a shared VM) finds
// the job closed or its chunks taken and leaves without delaying anyone: the caller waits only
// for workers that are inside the job, so a parallel_for costs about what the caller alone
// would take plus the chunk a worker holds (a worker descheduled in the few instructions
// between entering and leaving a job it finds empty can still delay the caller). Workers spin for a short while after each
// job before sleeping on a condition variable, because a training step issues its kernels
// back to back (tens of microseconds apart) and a futex wake-up per kernel costs as much.
// One job runs at a time: a second thread that finds the pool busy runs its work inline
// instead of waiting (no deadlock, no priority inversion between the JS thread and libuv
// workers).
// Not here: work stealing between jobs, affinity/pinning.
#include "cpu/threadpool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace gf {
namespace {

thread_local bool tl_in_pool_job = false;  // true inside any chunk run by the pool
thread_local int tl_thread_index = 0;

int default_threads() {
  if (const char* env = std::getenv("GRADFORGE_NUM_THREADS")) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1 && v <= 1024) return static_cast<int>(v);
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// How long an idle worker keeps polling for the next job before it sleeps. Long enough to
// bridge the gaps between the kernels of one training step (JS work between two kernels is
// typically 5-50 us), short enough that an idle process gives its cores back at once.
constexpr auto kSpinBeforeSleep = std::chrono::microseconds(200);

class ThreadPool {
 public:
  explicit ThreadPool(int n) { start(n); }
  ~ThreadPool() { stop(); }

  int size() { return size_.load(std::memory_order_relaxed); }

  void resize(int n) {
    std::lock_guard<std::mutex> run(run_mu_);  // waits for a running job
    stop();
    start(n);
  }

  bool run(int64_t n, int64_t grain, const RangeFn& fn, Wake wake) {
    if (n <= 0) return false;
    if (grain < 1) grain = 1;
    int threads = size();
    const int64_t grains = (n + grain - 1) / grain;
    if (threads <= 1 || grains <= 1 || tl_in_pool_job) {
      fn(0, n);
      return false;
    }
    const bool may_wake = wake == Wake::Always || grains >= kWakeGrains;
    if (!may_wake && sleepers_.load(std::memory_order_relaxed) >= threads - 1) {
      fn(0, n);  // everyone asleep and the job too small to be worth waking them
      return false;
    }
    std::unique_lock<std::mutex> run(run_mu_, std::try_to_lock);
    if (!run.owns_lock()) {  // another thread owns the pool: do it here
      fn(0, n);
      return false;
    }
    // Chunks of grain / 8 or more, at most 16 per thread: a late worker then holds back at
    // most one small chunk, at the price of a counter increment per chunk.
    // (The publishing happens while no worker is inside a job: the previous run() waited.)
    const int64_t min_chunk = std::max<int64_t>(1, grain / 8);
    fn_ = &fn;
    n_ = n;
    chunks_ = std::min<int64_t>((n + min_chunk - 1) / min_chunk, static_cast<int64_t>(threads) * 16);
    for (int t = 0; t < threads; ++t) {
      segments_[t].next.store(t * chunks_ / threads, std::memory_order_relaxed);
      segments_[t].end = (t + 1) * chunks_ / threads;
    }
    const uint64_t job = (job_word_.load(std::memory_order_relaxed) | 1) + 1;  // next even id
    job_word_.store(job | 1, std::memory_order_seq_cst);                        // open
    if (may_wake && sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lk(mu_);  // pairs with the sleeper's predicate check
      cv_work_.notify_all();
    }
    work();
    // Every chunk is claimed: close the job so late workers stay out, then wait for the
    // workers still running a chunk (spinning first: chunks are short).
    job_word_.store(job, std::memory_order_seq_cst);
    for (int spins = 0; in_job_.load(std::memory_order_seq_cst) != 0; ++spins) {
      if (spins < 4096) cpu_relax();
      else std::this_thread::yield();
    }
    fn_ = nullptr;
    std::exception_ptr err;
    {
      std::lock_guard<std::mutex> elk(error_mu_);
      std::swap(err, error_);
    }
    if (err) std::rethrow_exception(err);
    return true;
  }

 private:
  void start(int n) {
    stopping_.store(false);
    size_.store(n, std::memory_order_relaxed);
    segments_ = std::vector<Segment>(static_cast<size_t>(n));
    // No job runs during start(), so the job word is stable: a worker that starts late still
    // sees the first job as new instead of taking it for one it has done (which would leave
    // that job to the caller alone).
    const uint64_t seen = job_word_.load();
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, seen] { worker_loop(i, seen); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_.store(true);
    }
    cv_work_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  // Takes chunks until none are left: first from this thread's own segment (thread t's is
  // chunks [t*chunks/threads, (t+1)*chunks/threads), the caller's the first), then what is left
  // of the others'. Chunk c covers [c*n/chunks, (c+1)*n/chunks). When the threads keep pace,
  // each works on the same part of the data call after call, so the lines it writes stay in
  // its core's cache (chunks handed out from one shared counter moved them between cores
  // every call: on this VM a cache line crosses cores in ~250 ns, and Adam over the MLP's
  // kernel ran twice as long on the caller when pooled); a late thread's segment is taken
  // over by the others.
  void work() {
    bool was_in_job = tl_in_pool_job;
    tl_in_pool_job = true;
    const int threads = size();
    const int home = tl_thread_index % threads;
    for (int k = 0; k < threads; ++k) {
      Segment& seg = segments_[(home + k) % threads];
      for (;;) {
      int64_t c = seg.next.fetch_add(1, std::memory_order_relaxed);
      if (c >= seg.end) break;
      int64_t b = c * n_ / chunks_, e = (c + 1) * n_ / chunks_;
      try {
        (*fn_)(b, e);
      } catch (...) {
        // Kernels do not throw except std::bad_alloc from scratch growth; keep the first
        // exception and rethrow it on the calling thread (a throw out of a std::thread
        // would terminate the process).
        std::lock_guard<std::mutex> lk(error_mu_);
        if (!error_) error_ = std::current_exception();
      }
      }
    }
    tl_in_pool_job = was_in_job;
  }

  // Enters the open job, if any, and runs chunks of it. The in_job_ count is raised before the
  // job word is read: a caller that saw in_job_ == 0 after closing its job has already made
  // that read return "closed" (both are seq_cst), so no worker touches a finished job.
  // Returns the job word seen, so the worker does not re-enter the same job.
  uint64_t try_join(uint64_t seen) {
    in_job_.fetch_add(1, std::memory_order_seq_cst);
    const uint64_t w = job_word_.load(std::memory_order_seq_cst);
    if ((w & 1) && w != seen) work();
    in_job_.fetch_sub(1, std::memory_order_seq_cst);
    return w;
  }

  void worker_loop(int index, uint64_t seen) {
    tl_thread_index = index;
    for (;;) {
      // Poll for a new open job for a while, then sleep until one is published.
      const auto spin_until = std::chrono::steady_clock::now() + kSpinBeforeSleep;
      bool found = false;
      for (int i = 0;; ++i) {
        const uint64_t w = job_word_.load(std::memory_order_acquire);
        if ((w & 1) && w != seen) { found = true; break; }
        if (stopping_.load(std::memory_order_relaxed)) return;
        if ((i & 63) == 63 && std::chrono::steady_clock::now() >= spin_until) break;
        cpu_relax();
      }
      if (!found) {
        std::unique_lock<std::mutex> lk(mu_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        cv_work_.wait(lk, [&] {
          const uint64_t w = job_word_.load(std::memory_order_seq_cst);
          return stopping_.load() || ((w & 1) && w != seen);
        });
        sleepers_.fetch_sub(1, std::memory_order_seq_cst);
        if (stopping_.load()) return;
      }
      seen = try_join(seen);
    }
  }

  std::mutex run_mu_;  // held by the thread that owns the current job (or a resize)
  std::mutex mu_;      // pairs sleeping workers with the notify of a new job
  std::condition_variable cv_work_;
  std::vector<std::thread> workers_;
  std::atomic<int> size_{1};
  std::atomic<bool> stopping_{false};
  // Job id in the high bits (even numbers, increasing), bit 0 set while the job is open.
  std::atomic<uint64_t> job_word_{0};
  std::atomic<int> in_job_{0};    // workers between raising it and leaving try_join
  std::atomic<int> sleepers_{0};  // workers asleep (or about to be) on cv_work_
  const RangeFn* fn_ = nullptr;
  int64_t n_ = 0, chunks_ = 0;
  struct alignas(64) Segment {  // one thread's share of the chunks, on a cache line of its own
    std::atomic<int64_t> next{0};
    int64_t end = 0;
  };
  std::vector<Segment> segments_;
  std::mutex error_mu_;
  std::exception_ptr error_;
};

ThreadPool& pool() {
  // Constructed on first use (so GRADFORGE_NUM_THREADS is read then); joined at exit.
  static ThreadPool p(default_threads());
  return p;
}

}  // namespace

bool parallel_for(int64_t n, int64_t grain, RangeFn fn, Wake wake) {
  return pool().run(n, grain, fn, wake);
}

// ---- AdaptiveParallel -------------------------------------------------------------------------

int AdaptiveParallel::bucket_of(double work) {
  int e = 0;
  while (work >= 2.0 && e < kBuckets - 1) {
    work *= 0.5;
    ++e;
  }
  return e;
}

double AdaptiveParallel::median_of(const Bucket& b, int mode) {
  double v[kWindow];
  const int n = b.kept[mode];
  for (int i = 0; i < n; ++i) {  // insertion sort: at most kWindow values
    int j = i;
    for (; j > 0 && v[j - 1] > b.recent[mode][i]; --j) v[j] = v[j - 1];
    v[j] = b.recent[mode][i];
  }
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Each mode is tried twice before any choice (the first timing of each is dropped: it pays for
// scratch allocation and cold caches).
int AdaptiveParallel::preferred(const Bucket& b) {
  if (b.kept[0] < 1) return 0;
  if (b.kept[1] < 1) return 1;
  return median_of(b, 1) < kMargin * median_of(b, 0) ? 1 : 0;
}

bool AdaptiveParallel::choose(double work) {
  std::lock_guard<std::mutex> lock(mu_);
  Bucket& b = buckets_[bucket_of(work)];
  if (b.exploring >= 0) return b.exploring == 1;  // inside a burst
  const int mode = preferred(b);
  if (b.kept[0] >= 1 && b.kept[1] >= 1 && ++b.since_explore >= b.interval &&
      b.busy_since_explore >= kExploreGap * kBurst * work * median_of(b, 1 - mode)) {
    b.since_explore = 0;
    b.busy_since_explore = 0;
    b.exploring = 1 - mode;
    b.burst_left = kBurst;
    b.chosen_before = mode;
    return b.exploring == 1;
  }
  return mode == 1;
}

bool AdaptiveParallel::prefers_pool(double work) {
  std::lock_guard<std::mutex> lock(mu_);
  return preferred(buckets_[bucket_of(work)]) == 1;
}

void AdaptiveParallel::record(bool pooled, double work, double seconds) {
  if (!(work > 0) || !(seconds >= 0)) return;
  std::lock_guard<std::mutex> lock(mu_);
  Bucket& b = buckets_[bucket_of(work)];
  const int m = pooled ? 1 : 0;
  b.busy_since_explore += seconds;
  if (b.calls[m]++ > 0) {  // the first timing of a mode is dropped
    b.recent[m][b.next[m]] = seconds / work;
    b.next[m] = (b.next[m] + 1) % kWindow;
    if (b.kept[m] < kWindow) ++b.kept[m];
  }
  if (b.exploring == m && --b.burst_left <= 0) {
    b.exploring = -1;
    // The explored mode won: it is now the preferred one, watched closely again. It lost
    // again: look less often (a losing pooled call can cost a scheduler quantum).
    b.interval = preferred(b) != b.chosen_before ? kMinInterval : std::min(2 * b.interval, kMaxInterval);
  }
}

void parallel_for(AdaptiveParallel& site, double work, int64_t n, int64_t grain, RangeFn fn) {
  if (n <= 0) return;
  if (pool().size() <= 1 || tl_in_pool_job || n <= grain) {
    fn(0, n);
    return;
  }
  site.run(work, [&] { return pool().run(n, grain, fn, Wake::Always); }, [&] { fn(0, n); });
}

int num_threads() { return pool().size(); }

void set_num_threads(int n) { pool().resize(n < 1 ? 1 : n); }

int thread_index() { return tl_thread_index; }

bool in_parallel_region() { return tl_in_pool_job; }

}  // namespace gf

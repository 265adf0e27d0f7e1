// The process-wide worker pool behind gf::parallel_for.
// Design: n-1 persistent workers sleep on a condition variable; the caller publishes a job
// (function, range, chunk size), wakes them, takes chunks itself from a shared atomic counter,
// then waits until every worker has left the job. One job runs at a time: a second thread that
// finds the pool busy runs its work inline instead of waiting (no deadlock, no priority
// inversion between the JS thread and libuv workers).
// Not here: work stealing, affinity/pinning, spinning before sleeping (a later tuning issue).
#include "cpu/threadpool.h"

#include <algorithm>
#include <atomic>
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

class ThreadPool {
 public:
  explicit ThreadPool(int n) { start(n); }
  ~ThreadPool() { stop(); }

  int size() {
    return size_.load(std::memory_order_relaxed);
  }

  void resize(int n) {
    std::lock_guard<std::mutex> run(run_mu_);  // waits for a running job
    stop();
    start(n);
  }

  void run(int64_t n, int64_t grain, const RangeFn& fn) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int threads = size();
    int64_t max_chunks = (n + grain - 1) / grain;
    if (threads <= 1 || max_chunks <= 1 || tl_in_pool_job) {
      fn(0, n);
      return;
    }
    std::unique_lock<std::mutex> run(run_mu_, std::try_to_lock);
    if (!run.owns_lock()) {  // another thread owns the pool: do it here
      fn(0, n);
      return;
    }
    // A few chunks per thread balances uneven chunk costs without much counter traffic.
    int64_t chunks = std::min<int64_t>(max_chunks, static_cast<int64_t>(threads) * 4);
    {
      std::lock_guard<std::mutex> lk(mu_);
      fn_ = &fn;
      n_ = n;
      chunks_ = chunks;
      next_chunk_.store(0, std::memory_order_relaxed);
      busy_workers_ = static_cast<int>(workers_.size());
      ++generation_;
    }
    cv_work_.notify_all();
    work();
    std::unique_lock<std::mutex> lk(mu_);
    cv_done_.wait(lk, [&] { return busy_workers_ == 0; });
    fn_ = nullptr;
    std::exception_ptr err;
    {
      std::lock_guard<std::mutex> elk(error_mu_);
      std::swap(err, error_);
    }
    lk.unlock();
    if (err) std::rethrow_exception(err);
  }

 private:
  void start(int n) {
    stopping_ = false;
    size_.store(n, std::memory_order_relaxed);
    // No job runs during start(), so generation_ is stable: a worker that starts late still
    // sees the first job as new instead of missing it (which would hang run()).
    uint64_t gen = generation_;
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, gen] { worker_loop(i, gen); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_ = true;
    }
    cv_work_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  // Takes chunks until none are left. Chunk c covers [c*n/chunks, (c+1)*n/chunks).
  void work() {
    bool was_in_job = tl_in_pool_job;
    tl_in_pool_job = true;
    for (;;) {
      int64_t c = next_chunk_.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks_) break;
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
    tl_in_pool_job = was_in_job;
  }

  void worker_loop(int index, uint64_t seen) {
    tl_thread_index = index;
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_work_.wait(lk, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      work();
      {
        std::lock_guard<std::mutex> lk(mu_);
        if (--busy_workers_ == 0) cv_done_.notify_one();
      }
    }
  }

  std::mutex run_mu_;  // held by the thread that owns the current job (or a resize)
  std::mutex mu_;      // guards the job description and the counters below
  std::condition_variable cv_work_, cv_done_;
  std::vector<std::thread> workers_;
  std::atomic<int> size_{1};
  bool stopping_ = false;
  uint64_t generation_ = 0;
  int busy_workers_ = 0;
  const RangeFn* fn_ = nullptr;
  int64_t n_ = 0, chunks_ = 0;
  std::atomic<int64_t> next_chunk_{0};
  std::mutex error_mu_;
  std::exception_ptr error_;
};

ThreadPool& pool() {
  // Constructed on first use (so GRADFORGE_NUM_THREADS is read then); joined at exit.
  static ThreadPool p(default_threads());
  return p;
}

}  // namespace

void parallel_for(int64_t n, int64_t grain, RangeFn fn) {
  pool().run(n, grain, fn);
}

int num_threads() { return pool().size(); }

void set_num_threads(int n) { pool().resize(n < 1 ? 1 : n); }

int thread_index() { return tl_thread_index; }

}  // namespace gf

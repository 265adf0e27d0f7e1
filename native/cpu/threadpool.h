// One persistent pool of worker threads shared by every CPU kernel (GEMM, large elementwise,
// reductions). It is: a fork-join parallel_for over an index range. It is not: a task queue,
// a scheduler for async work (N-API AsyncWorkers run on libuv's pool and may call in here),
// or something kernels configure; the binding decides the pool size.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <type_traits>

namespace gf {

// A non-owning reference to a callable fn(begin, end). Unlike std::function it never
// allocates (a lambda with several by-reference captures would not fit std::function's small
// buffer and cost a heap allocation per kernel call). The callable must outlive the call.
class RangeFn {
 public:
  template <typename F,
            typename = std::enable_if_t<!std::is_same<std::decay_t<F>, RangeFn>::value>>
  RangeFn(const F& f)  // NOLINT(google-explicit-constructor): lambdas convert implicitly
      : obj_(&f), call_([](const void* o, int64_t b, int64_t e) {
          (*static_cast<const F*>(o))(b, e);
        }) {}
  void operator()(int64_t begin, int64_t end) const { call_(obj_, begin, end); }

 private:
  const void* obj_;
  void (*call_)(const void*, int64_t, int64_t);
};

// What a job does about workers that are asleep (idle for longer than their spin). Waking one
// is a system call on the calling thread that costs more than a small job (measured on the
// 2-vCPU VM: 7-35 us, while a 65,536-element relu takes 6 us and took 39 pooled from sleep).
//   IfWorthIt: only a job of at least kWakeGrains grains wakes them; a smaller one is shared
//     with the workers that are awake (still spinning after a recent job), if any, else it runs
//     inline. A grain is a kernel's own unit, 3 us of relu but ~9 us of max-pool backward: at
//     32 grains the pool-2 backward of the tutorial CNN (22 grains, 0.2 ms) stayed on one
//     thread (2 threads 0.197 ms against 0.148 with any job waking); 16 serves both.
//   Always: wake them for any job (callers that time their calls, AdaptiveParallel, and so
//     learn whether a fork pays, wake-ups included).
enum class Wake { IfWorthIt, Always };
constexpr int64_t kWakeGrains = 16;

// Runs fn(begin, end) over [0, n) in chunks; `grain` is the least work worth a fork (n <= grain
// runs inline). Chunks are finer than a grain (down to grain / 8, at most 16 per thread) so that
// a worker that arrives late or is descheduled mid-job holds back only a small piece of it:
// the caller waits just for chunks a worker has taken, never for a worker still to come.
// Nested calls from inside a worker and calls made while another thread owns the pool run
// inline on the calling thread, so it never deadlocks. Returns after every chunk has
// finished; the result says whether the pool's workers were offered the chunks (false: it all
// ran inline on the caller).
bool parallel_for(int64_t n, int64_t grain, RangeFn fn, Wake wake = Wake::IfWorthIt);

// Learns, for one call site and per size of work (buckets of powers of two), whether running
// through the pool beats running on the calling thread, from the wall time of the calls
// themselves. Why: on a shared VM a worker's vCPU can be descheduled for milliseconds while it
// holds a chunk, and then two threads are slower than one; whether that happens depends on the
// other tenants, changes over minutes, and cannot be known in advance. So each site keeps the
// last few timings (seconds per unit of work) of both modes, runs the mode whose median is
// lower, and now and then runs the other one for a short burst to see whether things changed
// (less often each time that confirms the choice: the exploring calls may be slow ones).
// Medians, not averages: a single call that met a descheduled worker (several times the usual
// cost) used to pull the pool's average above the caller's and flip a site that the pool
// served better, for up to hundreds of calls, so a 2-thread training step took the 1-thread
// time in some rounds and not in others.
class AdaptiveParallel {
 public:
  // true: run this call through the pool; false: on the calling thread.
  bool choose(double work);
  // What a call chosen by choose() cost.
  void record(bool pooled, double work, double seconds);
  // Whether the pool is currently preferred for this much work (for tests and diagnostics).
  bool prefers_pool(double work);

  // Runs pooled() or on_caller() as choose() says for `work`, and records what it cost.
  // pooled() returns whether it really ran on the pool: one that ran on the calling thread alone
  // (the pool busy with another caller, a single chunk) teaches nothing about the pool.
  template <typename Pooled, typename OnCaller>
  void run(double work, const Pooled& pooled, const OnCaller& on_caller) {
    const bool use_pool = choose(work);
    const auto t0 = std::chrono::steady_clock::now();
    const bool forked = use_pool ? pooled() : (on_caller(), false);
    if (use_pool && !forked) return;
    record(use_pool, work,
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }

  static constexpr int kBuckets = 64;
  static constexpr int kWindow = 5;          // timings kept per mode (their median decides)
  static constexpr int kBurst = 3;           // calls per exploration: a majority of the window
  static constexpr int kMinInterval = 16;    // calls between explorations after a switch
  static constexpr int kMaxInterval = 128;   // ... and at most, after repeated confirmations
  static constexpr double kMargin = 0.95;    // the pool must be 5% faster to be preferred
  // ... and an exploration waits until the bucket's calls since the last one took at least
  // kExploreGap times what the burst is expected to cost (kBurst calls at the explored mode's
  // last median), so exploring takes a bounded share of the time (~1/kExploreGap) whatever the
  // size: counted in calls alone, a burst of 3 calls on one thread every 19 made 1024^3 on two
  // threads run at the 1-thread speed in one sample of 3 calls out of six (and ~8% slower on
  // average) until confirmations stretched the interval.
  static constexpr double kExploreGap = 16.0;

 private:
  struct Bucket {
    double recent[2][kWindow] = {};  // seconds per unit of work: [0] calling thread, [1] pool
    int kept[2] = {0, 0};            // timings in recent (up to kWindow)
    int next[2] = {0, 0};            // where the next timing goes (the oldest)
    int calls[2] = {0, 0};           // timings seen (the first of each mode is dropped)
    int since_explore = 0;
    double busy_since_explore = 0;  // seconds of the calls recorded since the last exploration
    int interval = kMinInterval;
    int exploring = -1;  // the mode a burst is running, or -1
    int burst_left = 0;
    int chosen_before = 0;  // the preferred mode when the burst began
  };
  static int bucket_of(double work);
  static double median_of(const Bucket& b, int mode);
  static int preferred(const Bucket& b);
  std::mutex mu_;
  Bucket buckets_[kBuckets];
};

// parallel_for through an AdaptiveParallel site: runs on the pool or inline, as the site
// chooses for `work` (any measure proportional to the cost, e.g. multiply-adds), timing the
// call to teach the site. With one thread, or nested inside a pool job, it simply runs inline.
void parallel_for(AdaptiveParallel& site, double work, int64_t n, int64_t grain, RangeFn fn);

// Threads that share a parallel_for, counting the caller (>= 1).
int num_threads();

// Resizes the pool (n >= 1; n == 1 means everything runs on the caller). Waits for a running
// parallel_for to finish first.
void set_num_threads(int n);

// Index of the calling thread inside the current parallel_for: 0 for the caller, 1..n-1 for
// workers. Lets kernels pick per-thread scratch without thread_local lookups if they wish.
int thread_index();

// True inside a chunk run by parallel_for (a nested parallel_for would run inline there).
bool in_parallel_region();

}  // namespace gf

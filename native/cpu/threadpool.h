// One persistent pool of worker threads shared by every CPU kernel (GEMM, large elementwise,
// reductions). It is: a fork-join parallel_for over an index range. It is not: a task queue,
// a scheduler for async work (N-API AsyncWorkers run on libuv's pool and may call in here),
// or something kernels configure; the binding decides the pool size.
#pragma once
#include <cstdint>
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

// Runs fn(begin, end) over [0, n) split into chunks of at least `grain` indices. Work that
// fits in one chunk, nested calls from inside a worker, and calls made while another thread
// owns the pool run inline on the calling thread, so it never deadlocks and small work never
// pays for a wake-up. Returns after every chunk has finished.
void parallel_for(int64_t n, int64_t grain, RangeFn fn);

// Threads that share a parallel_for, counting the caller (>= 1).
int num_threads();

// Resizes the pool (n >= 1; n == 1 means everything runs on the caller). Waits for a running
// parallel_for to finish first.
void set_num_threads(int n);

// Index of the calling thread inside the current parallel_for: 0 for the caller, 1..n-1 for
// workers. Lets kernels pick per-thread scratch without thread_local lookups if they wish.
int thread_index();

}  // namespace gf

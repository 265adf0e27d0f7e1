// A host emulation of the few CUDA built-ins that native/cuda's kernels use, for one test
// (native/tests/test_cuda_emulated.cc), so that the kernels' index math, edge handling,
// shared-memory double buffering and barriers run and are checked on a machine with no GPU.
// It is: threadIdx/blockIdx/blockDim/gridDim as thread-locals, each block's threads as real
// std::threads, __syncthreads as a barrier, warp shuffles through a per-warp exchange slot,
// __shared__ as function statics (one block runs at a time, so a static is that block's
// shared memory). It is not: a faithful GPU model (no warp lock-step, no memory model beyond
// the barriers, no timing), part of the library, or included by anything but that test.
#pragma once
#ifndef GF_CUDA_EMULATE
#error "cuda/emulate.h is only for the host emulation test (define GF_CUDA_EMULATE)"
#endif

// Defined before the CUDA headers, which then keep these (they define their own only when
// these are undefined): host functions, and statics for shared memory.
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __launch_bounds__(...)

#include <cuda_runtime_api.h>
#include <math.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

namespace gf {
namespace emu {

// A reusable barrier for n threads; a thread that exits drops out (as on the GPU, where
// exited threads no longer count at __syncthreads). A wait that never completes means a
// barrier that not every thread reaches: reported, then the test aborts rather than hangs.
class Barrier {
 public:
  explicit Barrier(int n) : n_(n) {}
  void wait() {
    std::unique_lock<std::mutex> lk(m_);
    const unsigned long gen = gen_;
    if (++arrived_ >= n_) {
      release();
      return;
    }
    if (!cv_.wait_for(lk, std::chrono::seconds(120), [&] { return gen_ != gen; })) {
      std::fprintf(stderr, "emulate: a barrier waited 120 s: some thread never reached it\n");
      std::abort();
    }
  }
  void drop() {
    std::lock_guard<std::mutex> lk(m_);
    --n_;
    if (arrived_ > 0 && arrived_ >= n_) release();
  }
  // Only while no thread is inside wait() (between blocks).
  void reset(int n) {
    std::lock_guard<std::mutex> lk(m_);
    n_ = n;
    arrived_ = 0;
  }

 private:
  void release() {
    arrived_ = 0;
    ++gen_;
    cv_.notify_all();
  }
  std::mutex m_;
  std::condition_variable cv_;
  int n_;
  int arrived_ = 0;
  unsigned long gen_ = 0;
};

struct Warp {
  explicit Warp(int n) : bar(n) {}
  Barrier bar;
  uint64_t slot[32] = {};
};

struct Block {
  explicit Block(int n) : bar(n), n_(n) {
    for (int w = 0; w * 32 < n; ++w) warps.push_back(std::make_unique<Warp>(lanes(w)));
  }
  void reset() {
    bar.reset(n_);
    for (size_t w = 0; w < warps.size(); ++w) warps[w]->bar.reset(lanes(static_cast<int>(w)));
  }
  Barrier bar;
  std::vector<std::unique_ptr<Warp>> warps;

 private:
  int lanes(int w) const { return n_ - w * 32 < 32 ? n_ - w * 32 : 32; }
  int n_;
};

inline thread_local Block* tls_block = nullptr;
inline thread_local int tls_linear = 0;  // the thread's linear index in its block

inline long& launches() { static long n = 0; return n; }

// Runs fn over the grid: blocks one after another, each block's threads concurrently.
template <class... P, class... A>
void launch(void (*fn)(P...), dim3 grid, dim3 block, A&&... args);

}  // namespace emu
}  // namespace gf

inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;

inline void __syncthreads() { gf::emu::tls_block->bar.wait(); }

namespace gf {
namespace emu {
template <class T>
T exchange(T v, int src_lane) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of a small value");
  Warp& w = *tls_block->warps[tls_linear / 32];
  std::memcpy(&w.slot[tls_linear % 32], &v, sizeof(T));
  w.bar.wait();  // every lane has written its value
  T r;
  std::memcpy(&r, &w.slot[src_lane & 31], sizeof(T));
  w.bar.wait();  // every lane has read before the slots are written again
  return r;
}
}  // namespace emu
}  // namespace gf

template <class T>
inline T __shfl_xor_sync(unsigned /*mask*/, T v, int lane_mask, int /*width*/ = 32) {
  return gf::emu::exchange(v, (gf::emu::tls_linear % 32) ^ lane_mask);
}
template <class T>
inline T __shfl_sync(unsigned /*mask*/, T v, int src_lane, int /*width*/ = 32) {
  return gf::emu::exchange(v, src_lane);
}

// atomicAdd on global or shared memory: the block's threads are real threads, so one lock
// makes each read-modify-write whole (the order of the adds varies, as on a device).
namespace gf {
namespace emu {
inline std::mutex& atomic_lock() {
  static std::mutex m;
  return m;
}
}  // namespace emu
}  // namespace gf
template <class T>
inline T atomicAdd(T* address, T v) {
  std::lock_guard<std::mutex> lk(gf::emu::atomic_lock());
  const T old = *address;
  *address = old + v;
  return old;
}
template <class T>
inline T atomicMax(T* address, T v) {
  std::lock_guard<std::mutex> lk(gf::emu::atomic_lock());
  const T old = *address;
  if (v > old) *address = v;
  return old;
}

namespace gf {
namespace emu {
// Threads that persist across launches (creating 256 threads per launch costs more than most
// emulated kernels): run(n, job) runs job(0..n-1) on n of them at once and waits for all.
class ThreadPool {
 public:
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  void run(int n, const std::function<void(int)>& job) {
    std::unique_lock<std::mutex> lk(m_);
    while (static_cast<int>(workers_.size()) < n) {
      const int id = static_cast<int>(workers_.size());
      workers_.emplace_back([this, id] { work(id); });
    }
    job_ = &job;
    active_ = n;
    remaining_ = n;
    ++gen_;
    cv_.notify_all();
    done_.wait(lk, [&] { return remaining_ == 0; });
    job_ = nullptr;
  }

 private:
  void work(int id) {
    unsigned long seen = 0;
    for (;;) {
      const std::function<void(int)>* job;
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return stop_ || (gen_ != seen && id < active_); });
        if (stop_) return;
        seen = gen_;
        job = job_;
      }
      (*job)(id);
      std::lock_guard<std::mutex> lk(m_);
      if (--remaining_ == 0) done_.notify_one();
    }
  }
  std::mutex m_;
  std::condition_variable cv_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* job_ = nullptr;
  int active_ = 0, remaining_ = 0;
  unsigned long gen_ = 0;
  bool stop_ = false;
};

inline ThreadPool& pool() {
  static ThreadPool p;
  return p;
}

template <class... P, class... A>
void launch(void (*fn)(P...), dim3 grid, dim3 block, A&&... args) {
  ++launches();
  const std::tuple<std::decay_t<P>...> targs(std::forward<A>(args)...);
  const int n = static_cast<int>(block.x * block.y * block.z);
  const long blocks = static_cast<long>(grid.x) * grid.y * grid.z;
  // One thread per thread of a block, kept for every block of the grid (blocks run one after
  // another: a block's threads leave its barriers as they finish it, then all wait for the
  // last before the next block starts with fresh barrier counts and the same statics).
  Block b(n);
  Barrier between(n);
  const std::function<void(int)> job = [&](int t) {
    tls_block = &b;
    tls_linear = t;
    threadIdx = uint3{t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
    blockDim = block;
    gridDim = grid;
    for (long i = 0; i < blocks; ++i) {
      blockIdx = uint3{static_cast<unsigned>(i % grid.x), static_cast<unsigned>((i / grid.x) % grid.y),
                       static_cast<unsigned>(i / (static_cast<long>(grid.x) * grid.y))};
      std::apply(fn, targs);
      b.warps[t / 32]->bar.drop();
      b.bar.drop();
      between.wait();  // every thread is done with block i
      if (t == 0) b.reset();
      between.wait();  // the counts are restored
    }
  };
  pool().run(n, job);
}
}  // namespace emu
}  // namespace gf

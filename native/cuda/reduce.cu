// Reduction kernels (contract in cuda/reduce.h). Two layouts:
//  - inner == 1 (contiguous rows): a group per row, a warp (4 rows a 128-thread block) when
//    n <= 1024, else a 256-thread block; lane j folds k = j, j + G, ... in order, then a
//    shuffle butterfly within warps and, for a block, the 8 warp partials in warp order.
//  - inner > 1: a 32 x 8 block per (o, 32 consecutive i): threadIdx.x walks i (coalesced
//    loads), threadIdx.y folds k = y, y + 8, ...; the 8 partials meet in shared memory and
//    are combined in y order.
// One functor per op (Sum/Mean/Max/Min, ArgMax/ArgMin) gives the accumulator, the fold of one
// element and the combine of two partials. For arg-reductions the combine is a total order
// (NaN above everything, then value, then the lower index), so any tree gives the CPU's
// sequential answer. Grids are capped and loops stride over the rest (uniformly per group,
// so every lane reaches the shuffles and barriers).
#include "cuda/reduce.h"

#include <math.h>

#include "cuda/check.h"
#include "cuda/launch.h"
#include "cuda/warp.h"

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace reduce_impl {
namespace {

constexpr int kEmpty = 0x7fffffff;  // the index of an arg partial that has seen nothing

// Sum, Mean, Max, Min: a double accumulator (exact for max/min of floats).
template <ReduceOp OP>
struct Reduce {
  using Acc = double;
  using Out = float;
  static __device__ __forceinline__ Acc init() {
    return OP == ReduceOp::Max ? -INFINITY : OP == ReduceOp::Min ? INFINITY : 0.0;
  }
  // NaN sticks: once acc is NaN no comparison replaces it; a NaN v always does.
  static __device__ __forceinline__ Acc fold(Acc acc, float v, int) {
    const double d = v;
    if (OP == ReduceOp::Max) return (d > acc || d != d) ? d : acc;
    if (OP == ReduceOp::Min) return (d < acc || d != d) ? d : acc;
    return acc + d;
  }
  static __device__ __forceinline__ Acc combine(Acc a, Acc b) {
    if (OP == ReduceOp::Max) return a != a ? a : ((b > a || b != b) ? b : a);
    if (OP == ReduceOp::Min) return a != a ? a : ((b < a || b != b) ? b : a);
    return a + b;
  }
  static __device__ __forceinline__ Acc shfl_xor(Acc a, int m) { return __shfl_xor_sync(kFullWarpMask, a, m); }
  static __device__ __forceinline__ Out finish(Acc a, int64_t n) {
    return static_cast<float>(OP == ReduceOp::Mean ? a / static_cast<double>(n) : a);
  }
};

struct ArgAcc {
  float v;
  int k;  // kEmpty: no element seen
};

template <ArgReduceOp OP>
struct ArgReduce {
  using Acc = ArgAcc;
  using Out = int32_t;
  static __device__ __forceinline__ Acc init() { return ArgAcc{0.0f, kEmpty}; }
  // Elements come in increasing k: keep the first NaN and the first strict extreme.
  static __device__ __forceinline__ Acc fold(Acc acc, float v, int k) {
    if (acc.k == kEmpty) return ArgAcc{v, k};
    if (acc.v != acc.v) return acc;
    if (v != v || (OP == ArgReduceOp::ArgMax ? v > acc.v : v < acc.v)) return ArgAcc{v, k};
    return acc;
  }
  static __device__ __forceinline__ Acc combine(Acc a, Acc b) {
    if (a.k == kEmpty) return b;
    if (b.k == kEmpty) return a;
    const bool an = a.v != a.v, bn = b.v != b.v;
    if (an || bn) return (an && bn) ? (a.k < b.k ? a : b) : (an ? a : b);
    if (a.v == b.v) return a.k < b.k ? a : b;
    return (OP == ArgReduceOp::ArgMax ? a.v > b.v : a.v < b.v) ? a : b;
  }
  static __device__ __forceinline__ Acc shfl_xor(Acc a, int m) {
    return ArgAcc{__shfl_xor_sync(kFullWarpMask, a.v, m), __shfl_xor_sync(kFullWarpMask, a.k, m)};
  }
  static __device__ __forceinline__ Out finish(Acc a, int64_t) { return a.k == kEmpty ? 0 : a.k; }
};

// A butterfly: every lane ends with the combine of all 32 (the same value in each, since
// combine is commutative).
template <class R>
__device__ __forceinline__ typename R::Acc warp_combine(typename R::Acc a) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) a = R::combine(a, R::shfl_xor(a, o));
  return a;
}

constexpr int kRowsPerWarpBlock = 4;  // warp kernel: 128 threads, a row per warp
constexpr int kBlockThreads = 256;    // block kernel: a row per block
constexpr int kColX = 32, kColY = 8;  // column kernel: 32 i by 8 slices of k
constexpr int64_t kMaxBlocks = 65535;

template <class R>
__global__ void __launch_bounds__(32 * kRowsPerWarpBlock)
rows_warp_kernel(const float* x, int64_t rows, int64_t n, typename R::Out* out) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kRowsPerWarpBlock + threadIdx.x / 32;
  for (int64_t r = first; r < rows; r += static_cast<int64_t>(gridDim.x) * kRowsPerWarpBlock) {
    const float* xr = x + r * n;
    typename R::Acc a = R::init();
    for (int64_t k = lane; k < n; k += 32) a = R::fold(a, xr[k], static_cast<int>(k));
    a = warp_combine<R>(a);
    if (lane == 0) out[r] = R::finish(a, n);
  }
}

template <class R>
__global__ void __launch_bounds__(kBlockThreads)
rows_block_kernel(const float* x, int64_t rows, int64_t n, typename R::Out* out) {
  __shared__ typename R::Acc partial[kBlockThreads / 32];
  const int lane = static_cast<int>(threadIdx.x) % 32, warp = static_cast<int>(threadIdx.x) / 32;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* xr = x + r * n;
    typename R::Acc a = R::init();
    for (int64_t k = threadIdx.x; k < n; k += kBlockThreads) a = R::fold(a, xr[k], static_cast<int>(k));
    a = warp_combine<R>(a);
    if (lane == 0) partial[warp] = a;
    __syncthreads();
    if (threadIdx.x == 0) {
      typename R::Acc t = partial[0];
      for (int w = 1; w < kBlockThreads / 32; ++w) t = R::combine(t, partial[w]);
      out[r] = R::finish(t, n);
    }
    __syncthreads();  // partial is rewritten by the next row
  }
}

template <class R>
__global__ void __launch_bounds__(kColX * kColY)
columns_kernel(const float* x, int64_t outer, int64_t n, int64_t inner, typename R::Out* out) {
  __shared__ typename R::Acc partial[kColY][kColX];
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int64_t iblocks = (inner + kColX - 1) / kColX;
  for (int64_t u = blockIdx.x; u < outer * iblocks; u += gridDim.x) {
    const int64_t o = u / iblocks, i = (u - o * iblocks) * kColX + tx;
    typename R::Acc a = R::init();
    if (i < inner) {
      const float* xs = x + o * n * inner + i;
      for (int64_t k = ty; k < n; k += kColY) a = R::fold(a, xs[k * inner], static_cast<int>(k));
    }
    partial[ty][tx] = a;
    __syncthreads();
    if (ty == 0 && i < inner) {
      typename R::Acc t = partial[0][tx];
      for (int y = 1; y < kColY; ++y) t = R::combine(t, partial[y][tx]);
      out[o * inner + i] = R::finish(t, n);
    }
    __syncthreads();
  }
}

unsigned capped(int64_t b) { return static_cast<unsigned>(b < kMaxBlocks ? (b < 1 ? 1 : b) : kMaxBlocks); }

template <class R>
cudaError_t launch(const float* x, int64_t outer, int64_t n, int64_t inner, typename R::Out* out,
                   cudaStream_t stream) {
  using Kernel = void (*)(const float*, int64_t, int64_t, typename R::Out*);
  if (inner == 1) {
    if (n <= 1024) {
      const Kernel k = rows_warp_kernel<R>;
      GF_LAUNCH(k, dim3(capped((outer + kRowsPerWarpBlock - 1) / kRowsPerWarpBlock)),
                dim3(32 * kRowsPerWarpBlock), stream, x, outer, n, out);
    } else {
      const Kernel k = rows_block_kernel<R>;
      GF_LAUNCH(k, dim3(capped(outer)), dim3(kBlockThreads), stream, x, outer, n, out);
    }
  } else {
    using ColKernel = void (*)(const float*, int64_t, int64_t, int64_t, typename R::Out*);
    const ColKernel k = columns_kernel<R>;
    GF_LAUNCH(k, dim3(capped(outer * ((inner + kColX - 1) / kColX))), dim3(kColX, kColY), stream, x, outer,
              n, inner, out);
  }
  return cudaGetLastError();
}

}  // namespace
}  // namespace reduce_impl

cudaError_t reduce(ReduceOp op, const float* x, int64_t outer, int64_t n, int64_t inner, float* out,
                   cudaStream_t stream) {
  using namespace reduce_impl;
  if (outer <= 0 || inner <= 0) return cudaSuccess;
  if (n < 0) return cudaErrorInvalidValue;
  switch (op) {
    case ReduceOp::Sum: return launch<Reduce<ReduceOp::Sum>>(x, outer, n, inner, out, stream);
    case ReduceOp::Mean: return launch<Reduce<ReduceOp::Mean>>(x, outer, n, inner, out, stream);
    case ReduceOp::Max: return launch<Reduce<ReduceOp::Max>>(x, outer, n, inner, out, stream);
    case ReduceOp::Min: return launch<Reduce<ReduceOp::Min>>(x, outer, n, inner, out, stream);
  }
  return cudaErrorNotSupported;
}

cudaError_t arg_reduce(ArgReduceOp op, const float* x, int64_t outer, int64_t n, int64_t inner,
                       int32_t* out, cudaStream_t stream) {
  using namespace reduce_impl;
  if (outer <= 0 || inner <= 0) return cudaSuccess;
  if (n < 1 || n >= kEmpty) return cudaErrorInvalidValue;
  switch (op) {
    case ArgReduceOp::ArgMax: return launch<ArgReduce<ArgReduceOp::ArgMax>>(x, outer, n, inner, out, stream);
    case ArgReduceOp::ArgMin: return launch<ArgReduce<ArgReduceOp::ArgMin>>(x, outer, n, inner, out, stream);
  }
  return cudaErrorNotSupported;
}

}  // namespace cuda
}  // namespace gf

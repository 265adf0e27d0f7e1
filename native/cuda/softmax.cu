// Row softmax / log-softmax kernels (contract in cuda/softmax.h).
// It is:
//  - cols <= 1024: one warp per row; the row is read once into registers (PER_LANE values a
//    lane, PER_LANE a power of two chosen from cols), the max and the sum of exp(x - max) are
//    warp-shuffle reductions, and the outputs are written from the registers.
//  - cols > 1024: one block (256 threads) per row, three passes over the row (max, sum,
//    write; the second and third mostly hit L1/L2), reductions by shuffles within warps and
//    shared memory across them.
// Both walk rows with a grid-stride loop (uniform per warp or per block, so shuffles and
// barriers see every lane). Sums are float (tree-shaped across lanes); expf/logf, not the
// fast intrinsics, so the error stays a few ulps. It is not: fused with a loss or a mask.
#include "cuda/softmax.h"

#include <math.h>

#include "cuda/check.h"
#include "cuda/launch.h"
#include "cuda/warp.h"

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace softmax_impl {
namespace {

constexpr int kWarpRowsPerBlock = 4;  // 128 threads

template <int PER_LANE>
__global__ void __launch_bounds__(32 * kWarpRowsPerBlock)
softmax_warp_kernel(const float* x, int64_t rows, int64_t cols, float* out, int log) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kWarpRowsPerBlock + threadIdx.x / 32;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kWarpRowsPerBlock;
  for (int64_t r = first; r < rows; r += stride) {
    const float* xr = x + r * cols;
    float* orow = out + r * cols;
    float v[PER_LANE];
    float mx = -INFINITY;
#pragma unroll
    for (int i = 0; i < PER_LANE; ++i) {
      const int64_t j = lane + 32 * i;
      v[i] = j < cols ? xr[j] : -INFINITY;
      mx = fmaxf(mx, v[i]);
    }
    mx = warp_max(mx);
    float s = 0.0f;
#pragma unroll
    for (int i = 0; i < PER_LANE; ++i)
      if (lane + 32 * i < cols) {
        v[i] -= mx;  // every read of x is done: out may alias it
        if (!log) {
          const float e = expf(v[i]);
          s += e;
          v[i] = e;
        } else {
          s += expf(v[i]);
        }
      }
    s = warp_sum(s);
    const float t = log ? logf(s) : 1.0f / s;
#pragma unroll
    for (int i = 0; i < PER_LANE; ++i) {
      const int64_t j = lane + 32 * i;
      if (j < cols) orow[j] = log ? v[i] - t : v[i] * t;
    }
  }
}

constexpr int kBlockThreads = 256;

__global__ void __launch_bounds__(kBlockThreads)
softmax_block_kernel(const float* x, int64_t rows, int64_t cols, float* out, int log) {
  __shared__ float scratch[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* xr = x + r * cols;
    float* orow = out + r * cols;
    float mx = -INFINITY;
    for (int64_t j = threadIdx.x; j < cols; j += kBlockThreads) mx = fmaxf(mx, xr[j]);
    mx = block_reduce<true, kBlockThreads, false>(mx, scratch);  // warp results by a butterfly
    float s = 0.0f;
    for (int64_t j = threadIdx.x; j < cols; j += kBlockThreads) s += expf(xr[j] - mx);
    s = block_reduce<false, kBlockThreads, false>(s, scratch);
    // Each element is read and then written by the same thread, after every read of the
    // row's max and sum passes (the barriers above): out may alias x.
    if (log) {
      const float ls = logf(s);
      for (int64_t j = threadIdx.x; j < cols; j += kBlockThreads) orow[j] = (xr[j] - mx) - ls;
    } else {
      const float inv = 1.0f / s;
      for (int64_t j = threadIdx.x; j < cols; j += kBlockThreads) orow[j] = expf(xr[j] - mx) * inv;
    }
  }
}

constexpr int64_t kMaxBlocks = 65536;  // rows beyond are strided

using Kernel = void (*)(const float*, int64_t, int64_t, float*, int);

Kernel warp_kernel_for(int64_t cols) {
  if (cols <= 32) return softmax_warp_kernel<1>;
  if (cols <= 64) return softmax_warp_kernel<2>;
  if (cols <= 128) return softmax_warp_kernel<4>;
  if (cols <= 256) return softmax_warp_kernel<8>;
  if (cols <= 512) return softmax_warp_kernel<16>;
  return softmax_warp_kernel<32>;
}

}  // namespace
}  // namespace softmax_impl

cudaError_t softmax_forward(const float* x, int64_t rows, int64_t cols, float* out, bool log,
                            cudaStream_t stream) {
  using namespace softmax_impl;
  if (rows <= 0 || cols <= 0) return cudaSuccess;
  const int l = log ? 1 : 0;
  if (cols <= 1024) {
    const int64_t b = (rows + kWarpRowsPerBlock - 1) / kWarpRowsPerBlock;
    const Kernel k = warp_kernel_for(cols);
    GF_LAUNCH(k, dim3(static_cast<unsigned>(b < kMaxBlocks ? b : kMaxBlocks)),
              dim3(32 * kWarpRowsPerBlock), stream, x, rows, cols, out, l);
  } else {
    const Kernel k = softmax_block_kernel;
    GF_LAUNCH(k, dim3(static_cast<unsigned>(rows < kMaxBlocks ? rows : kMaxBlocks)),
              dim3(kBlockThreads), stream, x, rows, cols, out, l);
  }
  return cudaGetLastError();
}

}  // namespace cuda
}  // namespace gf

// Fused softmax cross-entropy kernels (contract in cuda/loss.h). Layout as cuda/softmax.cu's:
// classes <= 1024: one warp per row (4 rows a 128-thread block), reductions by shuffles;
// more: one 256-thread block per row, warp partials through shared memory, summed in warp
// order. Three passes over the row (max; the sum of exp(x - max) with, for targets, T and
// sum t (x - max); the loss or the gradient), the second and third mostly from L1/L2.
// Sums are float, tree-shaped across lanes, as the softmax kernel's; expf/logf, not the fast
// intrinsics. The loss is formed from shifted logits, log(s) * T - sum t (x - max), so a row
// offset by +-100 loses nothing to cancellation. It is not: a kernel that keeps the row in
// registers (the softmax kernel does; a loss row is read three times instead) or a batch mean.
#include "cuda/loss.h"

#include <math.h>

#include "cuda/check.h"
#include "cuda/launch.h"
#include "cuda/warp.h"

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace loss_impl {
namespace {

constexpr int kWarpRowsPerBlock = 4;
constexpr int kBlockThreads = 256;
constexpr int64_t kMaxBlocks = 65535;

// Over the row's group (a warp, or the block when BLOCK, its warp results added in warp
// order); every thread gets the result. The block form ends with a barrier so `scratch` can
// be reused at once; all threads must call it.
template <bool BLOCK, bool MAX>
__device__ __forceinline__ float group_reduce(float v, float* scratch) {
  return BLOCK ? block_reduce<MAX, kBlockThreads, true>(v, scratch) : warp_reduce<MAX>(v);
}

// SPARSE: labels; else targets t. BACKWARD: writes dx, else loss.
template <bool BLOCK, bool SPARSE, bool BACKWARD>
__global__ void __launch_bounds__(BLOCK ? kBlockThreads : 32 * kWarpRowsPerBlock)
xent_kernel(const float* x, const int32_t* labels, const float* t, const float* g, int64_t rows,
            int64_t classes, float* out) {
  __shared__ float scratch[kBlockThreads / 32];
  constexpr int G = BLOCK ? kBlockThreads : 32;
  const int tid = static_cast<int>(threadIdx.x) % G;
  const int64_t first = BLOCK ? blockIdx.x : static_cast<int64_t>(blockIdx.x) * kWarpRowsPerBlock + threadIdx.x / 32;
  const int64_t stride = BLOCK ? gridDim.x : static_cast<int64_t>(gridDim.x) * kWarpRowsPerBlock;
  for (int64_t r = first; r < rows; r += stride) {
    const float* xr = x + r * classes;
    const float* tr = SPARSE ? nullptr : t + r * classes;
    float mx = -INFINITY;
    for (int64_t j = tid; j < classes; j += G) mx = fmaxf(mx, xr[j]);
    mx = group_reduce<BLOCK, true>(mx, scratch);
    float s = 0.0f, tsum = 0.0f, tz = 0.0f;
    for (int64_t j = tid; j < classes; j += G) {
      const float z = xr[j] - mx;
      s += expf(z);
      if (!SPARSE) {
        const float tj = tr[j];
        tsum += tj;
        if (tj != 0.0f) tz += tj * z;  // 0 * (-Inf) is no cost: probability 0, target 0
      }
    }
    s = group_reduce<BLOCK, false>(s, scratch);
    if (!SPARSE) {
      tsum = group_reduce<BLOCK, false>(tsum, scratch);
      tz = group_reduce<BLOCK, false>(tz, scratch);
    }
    int64_t label = -1;
    bool valid = true;
    if (SPARSE) {
      label = labels[r];
      valid = label >= 0 && label < classes;
      tsum = 1.0f;
    }
    if (!BACKWARD) {
      if (tid == 0) {
        float loss;
        if (SPARSE) loss = valid ? logf(s) - (xr[label] - mx) : NAN;
        else loss = logf(s) * tsum - tz;
        // A NaN s (a bad row) must not vanish in log(s) * 0 when the targets sum to 0.
        out[r] = s != s ? NAN : loss;
      }
    } else {
      const float gr = g ? g[r] : 1.0f;
      const float scale = tsum / s;  // softmax_j * T = exp(z_j) * (T / s)
      float* dr = out + r * classes;
      // Each element is read and then written by the same thread, after every read of the
      // row's reductions (the barriers above): dx may alias x or t.
      for (int64_t j = tid; j < classes; j += G) {
        const float tj = SPARSE ? (j == label ? 1.0f : 0.0f) : tr[j];
        const float p = expf(xr[j] - mx) * scale;
        dr[j] = valid ? gr * (p - tj) : NAN;
      }
    }
  }
}

template <bool SPARSE, bool BACKWARD>
cudaError_t launch(const float* x, const int32_t* labels, const float* t, const float* g, int64_t rows,
                   int64_t classes, float* out, cudaStream_t stream) {
  if (rows <= 0 || classes <= 0) return cudaSuccess;
  using Kernel = void (*)(const float*, const int32_t*, const float*, const float*, int64_t, int64_t, float*);
  if (classes <= 1024) {
    const Kernel k = xent_kernel<false, SPARSE, BACKWARD>;
    const int64_t b = (rows + kWarpRowsPerBlock - 1) / kWarpRowsPerBlock;
    GF_LAUNCH(k, dim3(static_cast<unsigned>(b < kMaxBlocks ? b : kMaxBlocks)), dim3(32 * kWarpRowsPerBlock), stream,
              x, labels, t, g, rows, classes, out);
  } else {
    const Kernel k = xent_kernel<true, SPARSE, BACKWARD>;
    GF_LAUNCH(k, dim3(static_cast<unsigned>(rows < kMaxBlocks ? rows : kMaxBlocks)), dim3(kBlockThreads), stream, x,
              labels, t, g, rows, classes, out);
  }
  return cudaGetLastError();
}

}  // namespace
}  // namespace loss_impl

cudaError_t sparse_softmax_xent_forward(const float* x, const int32_t* labels, int64_t rows,
                                        int64_t classes, float* loss, cudaStream_t stream) {
  return loss_impl::launch<true, false>(x, labels, nullptr, nullptr, rows, classes, loss, stream);
}

cudaError_t sparse_softmax_xent_backward(const float* x, const int32_t* labels, const float* g,
                                         int64_t rows, int64_t classes, float* dx,
                                         cudaStream_t stream) {
  return loss_impl::launch<true, true>(x, labels, nullptr, g, rows, classes, dx, stream);
}

cudaError_t softmax_xent_forward(const float* x, const float* t, int64_t rows, int64_t classes,
                                 float* loss, cudaStream_t stream) {
  return loss_impl::launch<false, false>(x, nullptr, t, nullptr, rows, classes, loss, stream);
}

cudaError_t softmax_xent_backward(const float* x, const float* t, const float* g, int64_t rows,
                                  int64_t classes, float* dx, cudaStream_t stream) {
  return loss_impl::launch<false, true>(x, nullptr, t, g, rows, classes, dx, stream);
}

}  // namespace cuda
}  // namespace gf

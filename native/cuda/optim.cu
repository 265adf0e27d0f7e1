// Optimizer update kernels (contract in cuda/optim.h): one grid-stride pass over p, g and the
// state arrays, each element's update in the CPU's order of float operations (nvcc may fuse
// a multiply and an add into an fma, one rounding fewer than the CPU: the results agree to a
// few ulp, not bit for bit). Memory-bound: 3-4 loads and 2-3 stores an element.
// It is not: a multi-tensor (fused over many parameters) launch.
#include "cuda/optim.h"

#include <math.h>

#include "cuda/check.h"
#include "cuda/launch.h"

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace optim_impl {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 8192;

__device__ __forceinline__ int64_t first_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

__global__ void sgd_plain_kernel(float* p, const float* g, int64_t n, float lr) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) p[i] -= lr * g[i];
}

__global__ void sgd_momentum_kernel(float* p, const float* g, float* v, int64_t n, float lr, float mom,
                                    int nesterov) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const float gi = g[i];  // before v[i] is written: g may be v or p
    const float vi = mom * v[i] - lr * gi;
    v[i] = vi;
    p[i] += nesterov ? mom * vi - lr * gi : vi;
  }
}

__global__ void adam_kernel(float* p, const float* g, float* m, float* v, int64_t n, float alpha, float b1,
                            float b2, float c1, float c2, float eps) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const float gi = g[i];
    const float mi = b1 * m[i] + c1 * gi;
    const float vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= alpha * mi / (sqrtf(vi) + eps);
  }
}

__global__ void rmsprop_kernel(float* p, const float* g, float* ms, int64_t n, float lr, float rho, float c,
                               float eps) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const float gi = g[i];
    const float s = rho * ms[i] + c * gi * gi;
    ms[i] = s;
    p[i] -= lr * gi / sqrtf(s + eps);
  }
}

__global__ void adagrad_kernel(float* p, const float* g, float* acc, int64_t n, float lr, float eps) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const float gi = g[i];
    const float a = acc[i] + gi * gi;
    acc[i] = a;
    p[i] -= lr * gi / sqrtf(a + eps);
  }
}

}  // namespace
}  // namespace optim_impl

cudaError_t sgd_step(float* p, const float* g, float* v, int64_t n, double lr, double momentum,
                     bool nesterov, cudaStream_t stream) {
  using namespace optim_impl;
  const float lr_t = static_cast<float>(lr), mom = static_cast<float>(momentum);
  if (momentum == 0.0) return launch_grid(sgd_plain_kernel, n, kThreads, kMaxBlocks, stream, p, g, n, lr_t);
  return launch_grid(sgd_momentum_kernel, n, kThreads, kMaxBlocks, stream, p, g, v, n, lr_t, mom,
                     nesterov ? 1 : 0);
}

cudaError_t adam_step(float* p, const float* g, float* m, float* v, int64_t n, double lr,
                      double beta1, double beta2, double epsilon, double step,
                      cudaStream_t stream) {
  using namespace optim_impl;
  const float alpha = static_cast<float>(lr * sqrt(1.0 - pow(beta2, step)) / (1.0 - pow(beta1, step)));
  return launch_grid(adam_kernel, n, kThreads, kMaxBlocks, stream, p, g, m, v, n, alpha, static_cast<float>(beta1),
                     static_cast<float>(beta2), static_cast<float>(1.0 - beta1), static_cast<float>(1.0 - beta2),
                     static_cast<float>(epsilon));
}

cudaError_t rmsprop_step(float* p, const float* g, float* ms, int64_t n, double lr, double rho,
                         double epsilon, cudaStream_t stream) {
  using namespace optim_impl;
  return launch_grid(rmsprop_kernel, n, kThreads, kMaxBlocks, stream, p, g, ms, n, static_cast<float>(lr),
                     static_cast<float>(rho), static_cast<float>(1.0 - rho), static_cast<float>(epsilon));
}

cudaError_t adagrad_step(float* p, const float* g, float* acc, int64_t n, double lr,
                         double epsilon, cudaStream_t stream) {
  using namespace optim_impl;
  return launch_grid(adagrad_kernel, n, kThreads, kMaxBlocks, stream, p, g, acc, n, static_cast<float>(lr),
                     static_cast<float>(epsilon));
}

}  // namespace cuda
}  // namespace gf

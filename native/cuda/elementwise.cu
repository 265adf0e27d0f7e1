// Elementwise kernels (contract in cuda/elementwise.h): grid-stride loops, one element per
// thread per step, 64-bit indices. Memory-bound, so the simple form is within a few percent of
// vectorised loads on contiguous data; the grid is capped and strides over the rest.
// It is not: broadcasting binary ops or gradients (later increments).
#include "cuda/elementwise.h"

#include <math.h>

#include "cuda/check.h"
#include "cuda/launch.h"

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace elementwise_impl {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 8192;  // enough to fill any current GPU; the loop covers more

enum Op { kRelu, kSigmoid, kTanh };

template <int OP>
__device__ __forceinline__ float apply(float v) {
  if (OP == kRelu) return v < 0.0f ? 0.0f : v;
  if (OP == kSigmoid) {
    if (v >= 0.0f) return 1.0f / (1.0f + expf(-v));
    const float e = expf(v);  // v < 0 (or NaN): e <= 1, no overflow
    return e / (1.0f + e);
  }
  return tanhf(v);
}

template <int OP>
__global__ void unary_kernel(const float* x, float* out, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = apply<OP>(x[i]);
}

// blockIdx.y strides over rows, x over columns: no 64-bit division per element.
__global__ void bias_add_kernel(const float* x, const float* bias, float* out, int64_t rows,
                                int64_t cols, int relu) {
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
    const float* xr = x + r * cols;
    float* orow = out + r * cols;
    for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < cols;
         c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      float v = xr[c];
      if (bias) v += bias[c];
      if (relu) v = v < 0.0f ? 0.0f : v;
      orow[c] = v;
    }
  }
}

unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < kMaxBlocks ? b : kMaxBlocks);
}

}  // namespace
}  // namespace elementwise_impl

bool unary_supported(UnaryOp op) {
  return op == UnaryOp::Relu || op == UnaryOp::Sigmoid || op == UnaryOp::Tanh;
}

cudaError_t unary_forward(UnaryOp op, const float* x, float* out, int64_t n, cudaStream_t stream) {
  using namespace elementwise_impl;
  if (!unary_supported(op)) return cudaErrorNotSupported;
  if (n <= 0) return cudaSuccess;
  using Kernel = void (*)(const float*, float*, int64_t);
  const Kernel k = op == UnaryOp::Relu      ? unary_kernel<kRelu>
                   : op == UnaryOp::Sigmoid ? unary_kernel<kSigmoid>
                                            : unary_kernel<kTanh>;
  GF_LAUNCH(k, dim3(blocks_for(n)), dim3(kThreads), stream, x, out, n);
  return cudaGetLastError();
}

cudaError_t bias_add_forward(const float* x, const float* bias, float* out, int64_t rows,
                             int64_t cols, bool relu, cudaStream_t stream) {
  using namespace elementwise_impl;
  if (rows <= 0 || cols <= 0) return cudaSuccess;
  const int64_t bx = (cols + kThreads - 1) / kThreads;
  // Enough blocks in all for the machine (x * y <= ~kMaxBlocks * 8), rows strided beyond.
  const int64_t by_cap = (kMaxBlocks * 8) / (bx < 64 ? bx : 64);
  const dim3 grid(static_cast<unsigned>(bx < 64 ? bx : 64),
                  static_cast<unsigned>(rows < by_cap ? rows : (by_cap < 65535 ? by_cap : 65535)));
  using Kernel = void (*)(const float*, const float*, float*, int64_t, int64_t, int);
  const Kernel k = bias_add_kernel;
  GF_LAUNCH(k, grid, dim3(kThreads), stream, x, bias, out, rows, cols, relu ? 1 : 0);
  return cudaGetLastError();
}

}  // namespace cuda
}  // namespace gf

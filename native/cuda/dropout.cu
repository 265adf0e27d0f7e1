// Philox4x32-10 and the dropout kernels (contract in cuda/dropout.h). A thread computes one
// Philox block (4 words) per step of a grid-stride loop and handles the 4 elements it covers,
// so each counter is evaluated once. The 32 x 32 -> 64 multiplies are plain 64-bit products
// (mul.wide on the device), not __umulhi, so the same source runs in the host emulation.
// The keep test compares the 24-bit integer r = word >> 8 against ceil((1 - rate) * 2^24)
// formed in double on the host: exactly u = r * 2^-24 < 1 - rate, with no float rounding of
// the threshold. It is not: a general random-number API (only the raw words and the masks).
#include "cuda/dropout.h"

#include <math.h>

#include "cuda/check.h"
#include "cuda/launch.h"

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace dropout_impl {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 8192;

struct Words {
  uint32_t w[4];
};

// Philox4x32 with 10 rounds: the round function, then the key bumped by the Weyl constants.
__device__ __forceinline__ Words philox4x32_10(uint64_t ctr_lo, uint64_t ctr_hi, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(ctr_lo), c1 = static_cast<uint32_t>(ctr_lo >> 32);
  uint32_t c2 = static_cast<uint32_t>(ctr_hi), c3 = static_cast<uint32_t>(ctr_hi >> 32);
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
#pragma unroll
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Words{{c0, c1, c2, c3}};
}

__global__ void philox_kernel(uint32_t* out, int64_t n, uint64_t seed, uint64_t offset) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t q = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; q < blocks;
       q += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const Words r = philox4x32_10(static_cast<uint64_t>(q), offset, seed);
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (4 * q + j < n) out[4 * q + j] = r.w[j];
  }
}

__global__ void dropout_kernel(const float* x, float* y, float* mask, int64_t n, uint32_t threshold,
                               float scale, uint64_t seed, uint64_t offset) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t q = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; q < blocks;
       q += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const Words r = philox4x32_10(static_cast<uint64_t>(q), offset, seed);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t i = 4 * q + j;
      if (i < n) {
        const float m = (r.w[j] >> 8) < threshold ? scale : 0.0f;
        if (mask) mask[i] = m;
        y[i] = x[i] * m;
      }
    }
  }
}

__global__ void dropout_backward_kernel(const float* dy, const float* mask, float* dx, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dx[i] = dy[i] * mask[i];
}

}  // namespace
}  // namespace dropout_impl

cudaError_t philox_fill(uint32_t* out, int64_t n, uint64_t seed, uint64_t offset, cudaStream_t stream) {
  using namespace dropout_impl;
  return launch_grid(philox_kernel, (n + 3) / 4, kThreads, kMaxBlocks, stream, out, n, seed, offset);
}

cudaError_t dropout_forward(const float* x, float* y, float* mask, int64_t n, float rate, uint64_t seed,
                            uint64_t offset, cudaStream_t stream) {
  using namespace dropout_impl;
  if (!(rate >= 0.0f && rate < 1.0f)) return cudaErrorInvalidValue;
  if (n <= 0) return cudaSuccess;
  const double keep = 1.0 - static_cast<double>(rate);
  const uint32_t threshold = static_cast<uint32_t>(ceil(keep * 16777216.0));  // <= 2^24: rate 0 keeps all
  const float scale = static_cast<float>(1.0 / keep);
  return launch_grid(dropout_kernel, (n + 3) / 4, kThreads, kMaxBlocks, stream, x, y, mask, n, threshold, scale,
                     seed, offset);
}

cudaError_t dropout_backward(const float* dy, const float* mask, float* dx, int64_t n, cudaStream_t stream) {
  using namespace dropout_impl;
  return launch_grid(dropout_backward_kernel, n, kThreads, kMaxBlocks, stream, dy, mask, dx, n);
}

}  // namespace cuda
}  // namespace gf

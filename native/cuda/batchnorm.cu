// Batch normalization kernels and launchers (contract in cuda/batchnorm.h).
// It is, per pass: (1) stats_kernel: two per-channel double sums over each fixed block of rows
// (32 channels x 8 row lanes a thread block, the lanes added in lane order), written as
// partials; (2) a one-thread-per-channel kernel that adds the partials in block order and
// computes what the CPU computes in double (mean, inv_std, the moving averages, dgamma,
// dbeta) and the per-channel coefficients of (3) affine_kernel:
// out = a * (u - mu) + b * (v - mv) + k (the v term only when v is given), coefficients in
// float as the CPU rounds them. Same formulas as native/cpu/batchnorm.cc, so the two agree to
// a few float ulps. It is not: a single fused kernel (the statistics must be complete before
// any output; three launches cost a few microseconds), or vectorised.
#include "cuda/batchnorm.h"

#include <math.h>

#include <algorithm>

#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/launch.h"
#include "cuda/warp.h"

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace batchnorm_impl {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 8192;
constexpr int kCols = 32, kLanes = 8;  // stats block: 32 channels x 8 row lanes
constexpr int64_t kRowsPerBlock = 512;
constexpr int64_t kMaxRowBlocks = 256;

// The row blocks of the statistics: a function of M only.
int64_t row_blocks(int64_t M) {
  return std::max<int64_t>(1, std::min<int64_t>(kMaxRowBlocks, (M + kRowsPerBlock - 1) / kRowsPerBlock));
}

enum StatsMode { kMoments = 0, kGradients = 1 };

// part[(b, 0, c)], part[(b, 1, c)] over rows [b*M/B, (b+1)*M/B):
//   kMoments:   sum d, sum d^2 with d = x - x[row 0]
//   kGradients: sum dy, sum dy * (x - centre[c])
__global__ void stats_kernel(int64_t M, int64_t C, const float* x, const float* dy,
                             const float* centre, int mode, int64_t blocks, double* part) {
  __shared__ double red[kLanes][kCols];
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  for (int64_t b = blockIdx.y; b < blocks; b += gridDim.y) {
    const int64_t ra = b * M / blocks, rb = (b + 1) * M / blocks;
    for (int64_t c0 = static_cast<int64_t>(blockIdx.x) * kCols; c0 < C;
         c0 += static_cast<int64_t>(gridDim.x) * kCols) {
      const int64_t c = c0 + tx;
      double s0 = 0.0, s1 = 0.0;
      if (c < C) {
        if (mode == kMoments) {
          const double shift = x[c];
          for (int64_t r = ra + ty; r < rb; r += kLanes) {
            const double d = static_cast<double>(x[r * C + c]) - shift;
            s0 += d;
            s1 += d * d;
          }
        } else {
          const double ctr = centre[c];
          for (int64_t r = ra + ty; r < rb; r += kLanes) {
            const double g = dy[r * C + c];
            s0 += g;
            s1 += g * (static_cast<double>(x[r * C + c]) - ctr);
          }
        }
      }
      // Each ends with a barrier: red is free for the next sum, and the next chunk.
      const double t0 = sum_lanes(red, s0);
      const double t1 = sum_lanes(red, s1);
      if (ty == 0 && c < C) {
        part[(2 * b) * C + c] = t0;
        part[(2 * b + 1) * C + c] = t1;
      }
    }
  }
}

// The partials of channel c added in block order.
__device__ __forceinline__ void total(const double* part, int64_t blocks, int64_t C, int64_t c,
                                      double* s0, double* s1) {
  double t0 = 0.0, t1 = 0.0;
  for (int64_t b = 0; b < blocks; ++b) {
    t0 += part[(2 * b) * C + c];
    t1 += part[(2 * b + 1) * C + c];
  }
  *s0 = t0;
  *s1 = t1;
}

__device__ __forceinline__ double val_or(const float* p, int64_t c, double d) {
  return p ? static_cast<double>(p[c]) : d;
}

// coef: (5, C) floats a, mu, b, mv, k of affine_kernel.
#define GF_BN_FOR_CHANNEL(c, C)                                                          \
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < (C); \
       c += static_cast<int64_t>(gridDim.x) * blockDim.x)

__global__ void train_finish_kernel(const double* part, int64_t blocks, int64_t M, int64_t C,
                                    const float* x, const float* gamma, const float* beta,
                                    double eps, double momentum, float* mean, float* inv_std,
                                    float* moving_mean, float* moving_var, float* coef) {
  GF_BN_FOR_CHANNEL(c, C) {
    double s0, s1;
    total(part, blocks, C, c, &s0, &s1);
    const double dm = s0 / static_cast<double>(M);
    const double v = s1 / static_cast<double>(M) - dm * dm;
    const double var = v > 0.0 ? v : 0.0;
    const double shift = x[c];
    const double mu = shift + dm;
    const double is = 1.0 / sqrt(var + eps);
    mean[c] = static_cast<float>(mu);
    inv_std[c] = static_cast<float>(is);
    if (moving_mean)
      moving_mean[c] = static_cast<float>(static_cast<double>(moving_mean[c]) * momentum + mu * (1.0 - momentum));
    if (moving_var)
      moving_var[c] = static_cast<float>(static_cast<double>(moving_var[c]) * momentum + var * (1.0 - momentum));
    // Centred on the shift (a float, so x - shift is exact for nearby x): y = a * (x - shift)
    // + beta - a * (mean - shift), as the CPU.
    const double a = val_or(gamma, c, 1.0) * is;
    coef[c] = static_cast<float>(a);
    coef[C + c] = static_cast<float>(shift);
    coef[2 * C + c] = 0.0f;
    coef[3 * C + c] = 0.0f;
    coef[4 * C + c] = static_cast<float>(val_or(beta, c, 0.0) - a * dm);
  }
}

__global__ void inference_coef_kernel(int64_t C, const float* gamma, const float* beta,
                                      const float* moving_mean, const float* moving_var, double eps,
                                      float* coef) {
  GF_BN_FOR_CHANNEL(c, C) {
    coef[c] = static_cast<float>(val_or(gamma, c, 1.0) / sqrt(static_cast<double>(moving_var[c]) + eps));
    coef[C + c] = moving_mean[c];
    coef[2 * C + c] = 0.0f;
    coef[3 * C + c] = 0.0f;
    coef[4 * C + c] = static_cast<float>(val_or(beta, c, 0.0));
  }
}

// dx = g*is*dy - g*is/M*dbeta - g*is/M*dgamma*is*(x - mean).
__global__ void backward_finish_kernel(const double* part, int64_t blocks, int64_t M, int64_t C,
                                       const float* gamma, const float* mean, const float* inv_std,
                                       float* dgamma, float* dbeta, float* coef) {
  GF_BN_FOR_CHANNEL(c, C) {
    double s0, s1;
    total(part, blocks, C, c, &s0, &s1);
    const double is = inv_std[c], inv_m = 1.0 / static_cast<double>(M);
    const double db = s0, dg = s1 * is;
    if (dbeta) dbeta[c] = static_cast<float>(db);
    if (dgamma) dgamma[c] = static_cast<float>(dg);
    const double gi = val_or(gamma, c, 1.0) * is;
    coef[c] = static_cast<float>(gi);
    coef[C + c] = 0.0f;
    coef[2 * C + c] = static_cast<float>(-gi * inv_m * dg * is);
    coef[3 * C + c] = mean[c];
    coef[4 * C + c] = static_cast<float>(-gi * inv_m * db);
  }
}

// part null: M == 0, the sums are 0.
__global__ void backward_inference_finish_kernel(const double* part, int64_t blocks, int64_t C,
                                                 const float* gamma, const float* moving_var,
                                                 double eps, float* dgamma, float* dbeta,
                                                 float* coef) {
  GF_BN_FOR_CHANNEL(c, C) {
    double s0 = 0.0, s1 = 0.0;
    if (part) total(part, blocks, C, c, &s0, &s1);
    const double is = 1.0 / sqrt(static_cast<double>(moving_var[c]) + eps);
    if (dbeta) dbeta[c] = static_cast<float>(s0);
    if (dgamma) dgamma[c] = static_cast<float>(s1 * is);
    coef[c] = static_cast<float>(val_or(gamma, c, 1.0) * is);
    coef[C + c] = 0.0f;
    coef[2 * C + c] = 0.0f;
    coef[3 * C + c] = 0.0f;
    coef[4 * C + c] = 0.0f;
  }
}

#undef GF_BN_FOR_CHANNEL

__global__ void affine_kernel(int64_t M, int64_t C, const float* u, const float* v,
                              const float* coef, float* out) {
  const int64_t total = M * C, stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int64_t c = i % C;
    float o = coef[c] * (u[i] - coef[C + c]);
    if (v) o += coef[2 * C + c] * (v[i] - coef[3 * C + c]);
    out[i] = o + coef[4 * C + c];  // the CPU's order of the terms
  }
}

// The workspace of one call: partial sums (blocks, 2, C) doubles, then coef (5, C) floats.
struct Work {
  DeviceBuffer buf;
  double* part = nullptr;
  float* coef = nullptr;
  Status allocate(int64_t blocks, int64_t C, cudaStream_t stream) {
    const std::size_t pbytes = static_cast<std::size_t>(2 * blocks * C) * sizeof(double);
    Status s = buf.allocate(pbytes + static_cast<std::size_t>(5 * C) * sizeof(float), stream);
    if (!s.ok()) return s;
    part = buf.as<double>();
    coef = reinterpret_cast<float*>(buf.as<char>() + pbytes);
    return s;
  }
};

cudaError_t stats(int64_t M, int64_t C, const float* x, const float* dy, const float* centre,
                  int mode, int64_t blocks, double* part, cudaStream_t stream) {
  const int64_t gx = std::min<int64_t>((C + kCols - 1) / kCols, 1024);
  const dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(blocks));
  using Kernel = void (*)(int64_t, int64_t, const float*, const float*, const float*, int, int64_t, double*);
  const Kernel k = stats_kernel;
  GF_LAUNCH(k, grid, dim3(kCols, kLanes), stream, M, C, x, dy, centre, mode, blocks, part);
  return cudaGetLastError();
}

cudaError_t affine(int64_t M, int64_t C, const float* u, const float* v, const float* coef,
                   float* out, cudaStream_t stream) {
  return launch_grid(affine_kernel, M * C, kThreads, kMaxBlocks, stream, M, C, u, v, coef, out);
}

}  // namespace
}  // namespace batchnorm_impl

cudaError_t batchnorm_forward_train(int64_t M, int64_t C, const float* x, const float* gamma,
                                    const float* beta, double eps, double momentum, float* y,
                                    float* mean, float* inv_std, float* moving_mean,
                                    float* moving_var, cudaStream_t stream) {
  using namespace batchnorm_impl;
  if (M <= 0 || C <= 0) return cudaSuccess;
  const int64_t blocks = row_blocks(M);
  Work w;
  Status st = w.allocate(blocks, C, stream);
  if (!st.ok()) return st.code;
  GF_CUDA_RETURN_IF_ERROR(stats(M, C, x, nullptr, nullptr, kMoments, blocks, w.part, stream));
  GF_CUDA_RETURN_IF_ERROR(launch_grid(train_finish_kernel, C, kThreads, kMaxBlocks, stream,
                                      static_cast<const double*>(w.part), blocks, M, C, x, gamma, beta, eps,
                                      momentum, mean, inv_std, moving_mean, moving_var, w.coef));
  GF_CUDA_RETURN_IF_ERROR(affine(M, C, x, nullptr, w.coef, y, stream));
  return w.buf.release().code;
}

cudaError_t batchnorm_forward_inference(int64_t M, int64_t C, const float* x, const float* gamma,
                                        const float* beta, const float* moving_mean,
                                        const float* moving_var, double eps, float* y,
                                        cudaStream_t stream) {
  using namespace batchnorm_impl;
  if (M <= 0 || C <= 0) return cudaSuccess;
  Work w;
  Status st = w.allocate(0, C, stream);
  if (!st.ok()) return st.code;
  GF_CUDA_RETURN_IF_ERROR(launch_grid(inference_coef_kernel, C, kThreads, kMaxBlocks, stream, C, gamma, beta,
                                      moving_mean, moving_var, eps, w.coef));
  GF_CUDA_RETURN_IF_ERROR(affine(M, C, x, nullptr, w.coef, y, stream));
  return w.buf.release().code;
}

cudaError_t batchnorm_backward(int64_t M, int64_t C, const float* x, const float* dy,
                               const float* gamma, const float* mean, const float* inv_std,
                               float* dx, float* dgamma, float* dbeta, cudaStream_t stream) {
  using namespace batchnorm_impl;
  if (C <= 0) return cudaSuccess;
  if (M <= 0) {
    if (dgamma) GF_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(dgamma, 0, static_cast<std::size_t>(C) * sizeof(float), stream));
    if (dbeta) GF_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(dbeta, 0, static_cast<std::size_t>(C) * sizeof(float), stream));
    return cudaSuccess;
  }
  const int64_t blocks = row_blocks(M);
  Work w;
  Status st = w.allocate(blocks, C, stream);
  if (!st.ok()) return st.code;
  GF_CUDA_RETURN_IF_ERROR(stats(M, C, x, dy, mean, kGradients, blocks, w.part, stream));
  GF_CUDA_RETURN_IF_ERROR(launch_grid(backward_finish_kernel, C, kThreads, kMaxBlocks, stream,
                                      static_cast<const double*>(w.part), blocks, M, C, gamma, mean, inv_std,
                                      dgamma, dbeta, w.coef));
  GF_CUDA_RETURN_IF_ERROR(affine(M, C, dy, x, w.coef, dx, stream));
  return w.buf.release().code;
}

cudaError_t batchnorm_backward_inference(int64_t M, int64_t C, const float* x, const float* dy,
                                         const float* gamma, const float* moving_mean,
                                         const float* moving_var, double eps, float* dx,
                                         float* dgamma, float* dbeta, cudaStream_t stream) {
  using namespace batchnorm_impl;
  if (C <= 0) return cudaSuccess;
  const bool sums = (dgamma || dbeta) && M > 0;
  const int64_t blocks = sums ? row_blocks(M) : 0;
  Work w;
  Status st = w.allocate(blocks, C, stream);
  if (!st.ok()) return st.code;
  if (sums) GF_CUDA_RETURN_IF_ERROR(stats(M, C, x, dy, moving_mean, kGradients, blocks, w.part, stream));
  GF_CUDA_RETURN_IF_ERROR(launch_grid(backward_inference_finish_kernel, C, kThreads, kMaxBlocks, stream,
                                      sums ? static_cast<const double*>(w.part) : nullptr, blocks, C, gamma,
                                      moving_var, eps, dgamma, dbeta, w.coef));
  if (M > 0) GF_CUDA_RETURN_IF_ERROR(affine(M, C, dy, nullptr, w.coef, dx, stream));
  return w.buf.release().code;
}

}  // namespace cuda
}  // namespace gf

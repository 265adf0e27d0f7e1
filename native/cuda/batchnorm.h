// Batch normalization on a CUDA device over x viewed as (M, C) (M = N*H*W for NHWC images),
// with the contract of native/cpu/batchnorm.h: population variance (divided by M, no Bessel
// correction, as Keras 3), inv_std = 1 / sqrt(var + eps), moving = moving * momentum +
// batch * (1 - momentum), gamma / beta null meaning 1 / 0, outputs overwritten.
// It is: host-callable launchers over device pointers, float data with double statistics,
// asynchronous on `stream`. Per-channel sums run over fixed row blocks (boundaries depend only
// on M) in double, reduced within a block in lane order and across blocks in block order: no
// float atomics, so every result is the same run to run. The batch variance uses sums shifted
// by row 0, as the CPU does (accurate when |mean| >> std). A small workspace (partial sums and
// per-channel coefficients) comes from the caching allocator; each launcher returns the first
// failing call's error and never aborts.
// It is not: validation (the caller checks sizes and that every pointer is device memory of
// the right extent), mode selection, or synchronisation.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace gf {
namespace cuda {

// y (M, C); mean, inv_std (C) written; moving_mean / moving_var (C) updated in place when
// given. M == 0 or C == 0 does nothing.
cudaError_t batchnorm_forward_train(int64_t M, int64_t C, const float* x, const float* gamma,
                                    const float* beta, double eps, double momentum, float* y,
                                    float* mean, float* inv_std, float* moving_mean,
                                    float* moving_var, cudaStream_t stream);

// y = gamma * (x - moving_mean) / sqrt(moving_var + eps) + beta.
cudaError_t batchnorm_forward_inference(int64_t M, int64_t C, const float* x, const float* gamma,
                                        const float* beta, const float* moving_mean,
                                        const float* moving_var, double eps, float* y,
                                        cudaStream_t stream);

// The training-mode gradient, mean / inv_std as batchnorm_forward_train wrote them; dgamma,
// dbeta (C) or null. M == 0 gives dgamma = dbeta = 0.
cudaError_t batchnorm_backward(int64_t M, int64_t C, const float* x, const float* dy,
                               const float* gamma, const float* mean, const float* inv_std,
                               float* dx, float* dgamma, float* dbeta, cudaStream_t stream);

// The statistics as constants: dx = dy * gamma / sqrt(moving_var + eps); dgamma, dbeta or null.
cudaError_t batchnorm_backward_inference(int64_t M, int64_t C, const float* x, const float* dy,
                                         const float* gamma, const float* moving_mean,
                                         const float* moving_var, double eps, float* dx,
                                         float* dgamma, float* dbeta, cudaStream_t stream);

}  // namespace cuda
}  // namespace gf

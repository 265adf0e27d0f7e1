// Batch normalization over all axes but the last: x seen as (M, C), M = N*H*W for NHWC
// images (or N for Dense outputs). It is: training forward (batch statistics, moving-average
// update), inference forward (moving statistics) and both backward passes. It is not: the
// choice of mode, or validation (lib and the binding decide and check).
//
// ---- Binding contract (what native/binding will wrap) -------------------------------------
// gamma / beta may be nullptr (Keras scale=False / center=False: gamma = 1, beta = 0).
// Outputs are overwritten; nothing needs zeroing.
//
//   batchnorm_forward_train<T>(M, C, x, gamma|null, beta|null, eps, momentum,
//                              y, mean, inv_std, moving_mean|null, moving_var|null)
//     mean[c] = batch mean, var[c] = batch variance (population, divided by M), written out
//     as mean (C) and inv_std (C) = 1/sqrt(var + eps) for the backward pass;
//     y = gamma * (x - mean) * inv_std + beta.
//     When moving_mean / moving_var are given they are updated in place, as Keras 3 does:
//       moving = moving * momentum + batch * (1 - momentum)
//     with the same population variance (Keras 3 applies no Bessel correction; PyTorch does).
//   batchnorm_forward_inference<T>(M, C, x, gamma|null, beta|null, moving_mean, moving_var,
//                                  eps, y)
//     y = gamma * (x - moving_mean) / sqrt(moving_var + eps) + beta.
//   batchnorm_backward<T>(M, C, x, dy, gamma|null, mean, inv_std, dx, dgamma|null, dbeta|null)
//     The training-mode gradient (through the batch statistics), mean / inv_std as written
//     by batchnorm_forward_train: with xh = (x - mean) * inv_std,
//       dbeta = sum dy, dgamma = sum dy * xh,
//       dx = gamma * inv_std / M * (M * dy - dbeta - xh * dgamma).
//   batchnorm_backward_inference<T>(M, C, x, dy, gamma|null, moving_mean, moving_var, eps,
//                                   dx, dgamma|null, dbeta|null)
//     The statistics are constants: dx = dy * gamma / sqrt(moving_var + eps).
// ----------------------------------------------------------------------------------------------
// Sums accumulate in double over fixed row blocks (boundaries depend only on M, C), so results
// do not depend on the thread count. Partial sums live in per-thread scratch.
#pragma once
#include <cstdint>

namespace gf {

template <typename T>
void batchnorm_forward_train(int64_t M, int64_t C, const T* x, const T* gamma, const T* beta,
                             double eps, double momentum, T* y, T* mean, T* inv_std,
                             T* moving_mean, T* moving_var);
template <typename T>
void batchnorm_forward_inference(int64_t M, int64_t C, const T* x, const T* gamma,
                                 const T* beta, const T* moving_mean, const T* moving_var,
                                 double eps, T* y);
template <typename T>
void batchnorm_backward(int64_t M, int64_t C, const T* x, const T* dy, const T* gamma,
                        const T* mean, const T* inv_std, T* dx, T* dgamma, T* dbeta);
template <typename T>
void batchnorm_backward_inference(int64_t M, int64_t C, const T* x, const T* dy,
                                  const T* gamma, const T* moving_mean, const T* moving_var,
                                  double eps, T* dx, T* dgamma, T* dbeta);

#define GF_BN_DECLARE(T)                                                                      \
  extern template void batchnorm_forward_train<T>(int64_t, int64_t, const T*, const T*,       \
                                                  const T*, double, double, T*, T*, T*, T*,   \
                                                  T*);                                        \
  extern template void batchnorm_forward_inference<T>(int64_t, int64_t, const T*, const T*,   \
                                                      const T*, const T*, const T*, double,   \
                                                      T*);                                    \
  extern template void batchnorm_backward<T>(int64_t, int64_t, const T*, const T*, const T*,  \
                                             const T*, const T*, T*, T*, T*);                 \
  extern template void batchnorm_backward_inference<T>(int64_t, int64_t, const T*, const T*,  \
                                                       const T*, const T*, const T*, double,  \
                                                       T*, T*, T*);
GF_BN_DECLARE(float)
GF_BN_DECLARE(double)
#undef GF_BN_DECLARE

}  // namespace gf

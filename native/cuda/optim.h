// In-place optimizer updates on a CUDA device over one float parameter tensor (flat arrays of
// n elements): SGD (momentum, Nesterov), Adam, RMSprop, Adagrad.
// It is: the per-element rules of native/cpu/optim.h exactly (Keras 3 semantics, computed in
// float as the CPU does for float parameters; per-step scalars such as Adam's bias-corrected
// rate lr * sqrt(1 - beta2^t) / (1 - beta1^t) formed once in double on the host, then rounded
// to float): epsilon is added outside the square root for Adam (sqrt(v) + eps) and inside it
// for RMSprop and Adagrad (sqrt(s + eps)). g is read before any state is written, so g may be
// the same array as a state array or as p. Asynchronous on `stream`.
// It is not: state allocation, schedules, weight decay or clipping (lib does those before),
// double parameters, or validation of pointers and sizes.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace gf {
namespace cuda {

// v = momentum*v - lr*g; p += nesterov ? momentum*v - lr*g : v.  momentum == 0: p -= lr*g and
// v is not touched (may be null).
cudaError_t sgd_step(float* p, const float* g, float* v, int64_t n, double lr, double momentum,
                     bool nesterov, cudaStream_t stream);

// m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps),
// t = step (1 for the first update).
cudaError_t adam_step(float* p, const float* g, float* m, float* v, int64_t n, double lr,
                      double beta1, double beta2, double epsilon, double step,
                      cudaStream_t stream);

// ms = rho*ms + (1-rho)*g^2; p -= lr * g / sqrt(ms + eps)
cudaError_t rmsprop_step(float* p, const float* g, float* ms, int64_t n, double lr, double rho,
                         double epsilon, cudaStream_t stream);

// acc += g^2; p -= lr * g / sqrt(acc + eps)
cudaError_t adagrad_step(float* p, const float* g, float* acc, int64_t n, double lr,
                         double epsilon, cudaStream_t stream);

}  // namespace cuda
}  // namespace gf

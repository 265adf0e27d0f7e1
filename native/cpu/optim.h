// In-place optimizer updates over one parameter tensor (flat arrays of n elements).
// It is: the per-element update rules of binding.d.ts (Keras 3 semantics). It is not: the
// optimizer state bookkeeping, learning-rate schedules, weight decay or gradient clipping
// (lib does those before calling).
#pragma once
#include <cstdint>

namespace gf {

// v = momentum*v - lr*g; p += nesterov ? momentum*v - lr*g : v.  momentum == 0: p -= lr*g and
// v is not touched (may be null).
template <typename T>
void sgd_step(T* p, const T* g, T* v, int64_t n, double lr, double momentum, bool nesterov);

// m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps)
template <typename T>
void adam_step(T* p, const T* g, T* m, T* v, int64_t n, double lr, double beta1, double beta2,
               double epsilon, double step);

// ms = rho*ms + (1-rho)*g^2; p -= lr * g / sqrt(ms + eps)
template <typename T>
void rmsprop_step(T* p, const T* g, T* ms, int64_t n, double lr, double rho, double epsilon);

// acc += g^2; p -= lr * g / sqrt(acc + eps)
template <typename T>
void adagrad_step(T* p, const T* g, T* acc, int64_t n, double lr, double epsilon);

#define GF_DECLARE_OPTIM(T)                                                                  \
  extern template void sgd_step<T>(T*, const T*, T*, int64_t, double, double, bool);         \
  extern template void adam_step<T>(T*, const T*, T*, T*, int64_t, double, double, double,   \
                                    double, double);                                         \
  extern template void rmsprop_step<T>(T*, const T*, T*, int64_t, double, double, double);   \
  extern template void adagrad_step<T>(T*, const T*, T*, int64_t, double, double);
GF_DECLARE_OPTIM(float)
GF_DECLARE_OPTIM(double)
#undef GF_DECLARE_OPTIM

}  // namespace gf

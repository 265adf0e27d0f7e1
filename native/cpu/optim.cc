// Optimizer update kernels: one pass over p, g and the state arrays, computed in the parameter
// type T (as Keras does for float32 variables); per-step scalars (Adam's bias correction) are
// formed once in double. Large parameters are split across the pool.
// The loops vectorize (sqrt and the division are most of the cost: scalar, Adam took as long
// as the MLP's GEMMs) where the arrays are pairwise identical or disjoint, which a caller
// updating in place (g being v or p) still is; arrays that overlap partially run one element
// at a time, in order, as the rule reads.
// Not here: validation (binding), state allocation, schedules (lib).
#include "cpu/optim.h"

#include <cmath>
#include <cstdint>
#include <initializer_list>

#include "cpu/threadpool.h"

namespace gf {
namespace {
constexpr int64_t kGrain = 1 << 15;

// Whether every pair of the n-element arrays is the same array or shares no element: then
// no lane of a vector sees another element's write, and the update may run several at a time.
template <typename T>
bool lanes_independent(std::initializer_list<const T*> arrays, int64_t n) {
  const uintptr_t bytes = static_cast<uintptr_t>(n) * sizeof(T);
  for (const T* a : arrays)
    for (const T* b : arrays) {
      if (!a || !b || a == b) continue;
      const auto x = reinterpret_cast<uintptr_t>(a), y = reinterpret_cast<uintptr_t>(b);
      if (x < y + bytes && y < x + bytes) return false;
    }
  return true;
}

// Runs update(i) for i in [0, n) across the pool: vectorized (no dependence between elements
// assumed) when the arrays allow it, else in order.
template <typename Update>
void for_each_element(int64_t n, bool independent, const Update& update) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    if (independent) {
#pragma GCC ivdep
      for (int64_t i = b; i < e; ++i) update(i);
    } else {
      for (int64_t i = b; i < e; ++i) update(i);
    }
  });
}
}  // namespace

template <typename T>
void sgd_step(T* p, const T* g, T* v, int64_t n, double lr, double momentum, bool nesterov) {
  const T lr_t = static_cast<T>(lr), mom = static_cast<T>(momentum);
  if (momentum == 0.0) {
    for_each_element(n, lanes_independent<T>({p, g}, n), [&](int64_t i) { p[i] -= lr_t * g[i]; });
    return;
  }
  for_each_element(n, lanes_independent<T>({p, g, v}, n), [&](int64_t i) {
    const T gi = g[i];  // read before v[i] is written: g may be v or p (in place)
    const T vi = mom * v[i] - lr_t * gi;
    v[i] = vi;
    p[i] += nesterov ? mom * vi - lr_t * gi : vi;
  });
}

template <typename T>
void adam_step(T* p, const T* g, T* m, T* v, int64_t n, double lr, double beta1, double beta2,
               double epsilon, double step) {
  const T alpha = static_cast<T>(lr * std::sqrt(1.0 - std::pow(beta2, step)) /
                                 (1.0 - std::pow(beta1, step)));
  const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2), eps = static_cast<T>(epsilon);
  const T c1 = static_cast<T>(1.0 - beta1), c2 = static_cast<T>(1.0 - beta2);
  for_each_element(n, lanes_independent<T>({p, g, m, v}, n), [&](int64_t i) {
    const T gi = g[i];
    const T mi = b1 * m[i] + c1 * gi;
    const T vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= alpha * mi / (std::sqrt(vi) + eps);
  });
}

template <typename T>
void rmsprop_step(T* p, const T* g, T* ms, int64_t n, double lr, double rho, double epsilon) {
  const T lr_t = static_cast<T>(lr), r = static_cast<T>(rho), c = static_cast<T>(1.0 - rho);
  const T eps = static_cast<T>(epsilon);
  for_each_element(n, lanes_independent<T>({p, g, ms}, n), [&](int64_t i) {
    const T gi = g[i];
    const T s = r * ms[i] + c * gi * gi;
    ms[i] = s;
    p[i] -= lr_t * gi / std::sqrt(s + eps);
  });
}

template <typename T>
void adagrad_step(T* p, const T* g, T* acc, int64_t n, double lr, double epsilon) {
  const T lr_t = static_cast<T>(lr), eps = static_cast<T>(epsilon);
  for_each_element(n, lanes_independent<T>({p, g, acc}, n), [&](int64_t i) {
    const T gi = g[i];
    const T a = acc[i] + gi * gi;
    acc[i] = a;
    p[i] -= lr_t * gi / std::sqrt(a + eps);
  });
}

#define GF_INSTANTIATE_OPTIM(T)                                                               \
  template void sgd_step<T>(T*, const T*, T*, int64_t, double, double, bool);                 \
  template void adam_step<T>(T*, const T*, T*, T*, int64_t, double, double, double, double,   \
                             double);                                                         \
  template void rmsprop_step<T>(T*, const T*, T*, int64_t, double, double, double);           \
  template void adagrad_step<T>(T*, const T*, T*, int64_t, double, double);
GF_INSTANTIATE_OPTIM(float)
GF_INSTANTIATE_OPTIM(double)

}  // namespace gf

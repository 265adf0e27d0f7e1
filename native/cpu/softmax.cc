// Softmax and log-softmax rows, stable: subtract the row max before exp, sum in double.
// Rows are independent, so large inputs split rows across the pool.
// Not here: validation (binding). A row of all -Inf gives NaN, as NumPy/PyTorch do.
#include "cpu/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "cpu/threadpool.h"

namespace gf {
namespace {
constexpr int64_t kGrainElems = 1 << 14;
}

template <typename T>
void softmax_forward(const T* x, int64_t rows, int64_t cols, T* out, bool log) {
  if (cols == 0) return;
  const int64_t grain = std::max<int64_t>(1, kGrainElems / cols);
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * cols;
      T* orow = out + r * cols;
      T mx = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j < cols; ++j) mx = std::max(mx, xr[j]);
      double sum = 0;
      if (log) {
        for (int64_t j = 0; j < cols; ++j) sum += std::exp(xr[j] - mx);
        // (x - max) - log(sum), not x - (max + log(sum)): the latter rounds log(sum) at the
        // magnitude of max and loses the small log-probabilities of large logits.
        const T ls = static_cast<T>(std::log(sum));
        for (int64_t j = 0; j < cols; ++j) orow[j] = (xr[j] - mx) - ls;
      } else {
        for (int64_t j = 0; j < cols; ++j) {
          const T e = std::exp(xr[j] - mx);
          orow[j] = e;  // out may alias x: xr[j] is not read again after this
          sum += e;
        }
        const T inv = static_cast<T>(1.0 / sum);
        for (int64_t j = 0; j < cols; ++j) orow[j] *= inv;
      }
    }
  });
}

template <typename T>
void softmax_backward(const T* y, const T* dy, int64_t rows, int64_t cols, T* dx, bool log) {
  if (cols == 0) return;
  const int64_t grain = std::max<int64_t>(1, kGrainElems / cols);
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* yr = y + r * cols;
      const T* gr = dy + r * cols;
      T* dr = dx + r * cols;
      double s = 0;
      if (log) {
        for (int64_t j = 0; j < cols; ++j) s += gr[j];
        const T st = static_cast<T>(s);
        for (int64_t j = 0; j < cols; ++j) dr[j] = gr[j] - std::exp(yr[j]) * st;
      } else {
        for (int64_t j = 0; j < cols; ++j) s += static_cast<double>(gr[j]) * yr[j];
        const T st = static_cast<T>(s);
        for (int64_t j = 0; j < cols; ++j) dr[j] = yr[j] * (gr[j] - st);
      }
    }
  });
}

template void softmax_forward<float>(const float*, int64_t, int64_t, float*, bool);
template void softmax_forward<double>(const double*, int64_t, int64_t, double*, bool);
template void softmax_backward<float>(const float*, const float*, int64_t, int64_t, float*, bool);
template void softmax_backward<double>(const double*, const double*, int64_t, int64_t, double*,
                                       bool);

}  // namespace gf

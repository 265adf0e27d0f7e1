// Row-wise softmax / log-softmax and their gradients over x viewed as (rows, cols).
// It is: the numerically stable (max-subtracted) kernels. It is not: axis handling (lib moves
// the softmax axis last) or validation (binding).
#pragma once
#include <cstdint>

namespace gf {

// out = softmax(x) per row, or log-softmax when log. out may equal x.
template <typename T>
void softmax_forward(const T* x, int64_t rows, int64_t cols, T* out, bool log);

// Given the forward output y:
//   softmax:    dx = y * (dy - sum(dy * y))
//   logSoftmax: dx = dy - exp(y) * sum(dy)
// dx may equal dy.
template <typename T>
void softmax_backward(const T* y, const T* dy, int64_t rows, int64_t cols, T* dx, bool log);

extern template void softmax_forward<float>(const float*, int64_t, int64_t, float*, bool);
extern template void softmax_forward<double>(const double*, int64_t, int64_t, double*, bool);
extern template void softmax_backward<float>(const float*, const float*, int64_t, int64_t,
                                             float*, bool);
extern template void softmax_backward<double>(const double*, const double*, int64_t, int64_t,
                                              double*, bool);

}  // namespace gf

// Elementwise kernels: unary ops and their gradients, binary ops with NumPy broadcasting.
// It is: the math, over dense row-major arrays, threaded for large sizes.
// It is not: shape checking (the binding checks that shapes broadcast to outShape and that
// arrays are long enough; these functions trust it).
#pragma once
#include <cstdint>

namespace gf {

enum class UnaryOp {
  Neg, Exp, Log, Sqrt, Abs, Square, Reciprocal, Sign, Relu, LeakyRelu, Elu, Selu, Sigmoid,
  Tanh, Softplus, Clip, PowScalar, Scale, Log1p, LogSigmoid
};
enum class BinaryOp {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum, Greater, GreaterEqual, Less, LessEqual, Equal
};

// Name lookup using the names of binding.d.ts ('leakyRelu', 'greaterEqual', ...).
bool unary_op_from_name(const char* name, UnaryOp* op);
bool binary_op_from_name(const char* name, BinaryOp* op);

// SELU constants (Keras / Klambauer et al.).
constexpr double kSeluScale = 1.0507009873554805;
constexpr double kSeluAlpha = 1.6732632423543772;

// out[i] = f(x[i]); out may equal x. alpha/beta as documented for UnaryOp in binding.d.ts.
template <typename T>
void unary_forward(UnaryOp op, const T* x, T* out, int64_t n, T alpha, T beta);

// dx[i] = dy[i] * f'(x[i]) where y = f(x) is given too. dx may equal dy.
template <typename T>
void unary_backward(UnaryOp op, const T* x, const T* y, const T* dy, T* dx, int64_t n, T alpha,
                    T beta);

constexpr int kMaxRank = 8;

// out = a (op) b. Shapes are aligned from the right (NumPy); outShape is the broadcast shape.
// Ranks <= kMaxRank. out may equal a or b when that operand has the full output shape.
template <typename T>
void binary_forward(BinaryOp op, const T* a, const int64_t* aShape, int aRank, const T* b,
                    const int64_t* bShape, int bRank, T* out, const int64_t* outShape,
                    int outRank);

#define GF_DECLARE_ELEMENTWISE(T)                                                           \
  extern template void unary_forward<T>(UnaryOp, const T*, T*, int64_t, T, T);              \
  extern template void unary_backward<T>(UnaryOp, const T*, const T*, const T*, T*, int64_t, \
                                         T, T);                                              \
  extern template void binary_forward<T>(BinaryOp, const T*, const int64_t*, int, const T*,  \
                                         const int64_t*, int, T*, const int64_t*, int);
GF_DECLARE_ELEMENTWISE(float)
GF_DECLARE_ELEMENTWISE(double)
#undef GF_DECLARE_ELEMENTWISE

}  // namespace gf

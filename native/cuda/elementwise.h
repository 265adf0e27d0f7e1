// Elementwise kernels on a CUDA device: every UnaryOp of the CPU backend forward and backward,
// the binary ops with NumPy broadcasting, and a bias add over rows with an optional relu (a
// Dense layer's epilogue when the GEMM did not fuse it).
// It is: host-callable launchers over device pointers, asynchronous on `stream`, float only,
// with the CPU kernels' semantics (native/cpu/elementwise.cc): relu is v < 0 ? 0 : v (NaN and
// -0 pass through), sigmoid/softplus/logSigmoid never overflow exp, elu/selu use expm1,
// maximum/minimum propagate NaN, comparisons give 1 or 0; each backward uses the same formula
// as the CPU's (from y where the CPU uses y). It is not: validation (the caller checks sizes,
// that shapes broadcast and pointers), double, or fused chains of ops.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "cpu/elementwise.h"  // UnaryOp, BinaryOp, kMaxRank (the enums the binding maps names to)

namespace gf {
namespace cuda {

// Whether unary_forward / unary_backward implement op (every UnaryOp in this version).
bool unary_supported(UnaryOp op);

// out[i] = f(x[i]) for 0 <= i < n; out may equal x. alpha/beta as for the CPU's UnaryOp
// (leakyRelu/elu slope, clip bounds, powScalar exponent, scale a*x+b). An op that is not
// supported returns cudaErrorNotSupported without launching anything.
cudaError_t unary_forward(UnaryOp op, const float* x, float* out, int64_t n, float alpha,
                          float beta, cudaStream_t stream);
// The ops without parameters (alpha = beta = 0), as in the first version of this header.
cudaError_t unary_forward(UnaryOp op, const float* x, float* out, int64_t n, cudaStream_t stream);

// dx[i] = dy[i] * f'(x[i]), given x and the forward output y = f(x) (both are read for every
// op, as the CPU's signature has them). dx may equal dy.
cudaError_t unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx,
                           int64_t n, float alpha, float beta, cudaStream_t stream);

// out = a (op) b with NumPy broadcasting: shapes aligned from the right, a dim of 1 (or a
// missing leading dim) repeats; outShape is the broadcast shape, ranks <= kMaxRank (8). out may
// equal a or b when that operand has the full output shape. A rank above kMaxRank or below 0
// returns cudaErrorInvalidValue; an empty output does nothing.
cudaError_t binary_forward(BinaryOp op, const float* a, const int64_t* aShape, int aRank,
                           const float* b, const int64_t* bShape, int bRank, float* out,
                           const int64_t* outShape, int outRank, cudaStream_t stream);

// x, out: (rows, cols) row-major; bias: (cols) or null (no bias).
// out[r, c] = x[r, c] + bias[c], then v < 0 ? 0 : v when relu. out may equal x.
cudaError_t bias_add_forward(const float* x, const float* bias, float* out, int64_t rows,
                             int64_t cols, bool relu, cudaStream_t stream);

}  // namespace cuda
}  // namespace gf

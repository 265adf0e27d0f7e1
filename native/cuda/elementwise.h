// Elementwise kernels on a CUDA device: relu, sigmoid, tanh, and a bias add over rows with an
// optional relu (a Dense layer's epilogue when the GEMM did not fuse it).
// It is: host-callable launchers over device pointers, asynchronous on `stream`, float only,
// with the CPU kernels' semantics (native/cpu/elementwise.cc): relu is v < 0 ? 0 : v (NaN
// and -0 pass through), sigmoid never overflows exp. It is not: validation (the caller checks
// sizes and pointers) or the other UnaryOps of the CPU backend (not supported here yet).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "cpu/elementwise.h"  // UnaryOp (the enum the binding already maps names to)

namespace gf {
namespace cuda {

// Whether unary_forward implements op (Relu, Sigmoid, Tanh in this version).
bool unary_supported(UnaryOp op);

// out[i] = f(x[i]) for 0 <= i < n; out may equal x. An op that is not supported returns
// cudaErrorNotSupported without launching anything.
cudaError_t unary_forward(UnaryOp op, const float* x, float* out, int64_t n, cudaStream_t stream);

// x, out: (rows, cols) row-major; bias: (cols) or null (no bias).
// out[r, c] = x[r, c] + bias[c], then v < 0 ? 0 : v when relu. out may equal x.
cudaError_t bias_add_forward(const float* x, const float* bias, float* out, int64_t rows,
                             int64_t cols, bool relu, cudaStream_t stream);

}  // namespace cuda
}  // namespace gf

// Row-major SGEMM on a CUDA device, with the contract of native/cpu/gemm.h:
//   C = act(alpha * op(A) * op(B) + beta * C + bias),  op(A): M x K, op(B): K x N, C: M x N,
// A stored M x K (lda >= K) or, when transA, K x M (lda >= M); likewise B; bias per column
// (length N) or null; act Linear or Relu (v < 0 ? 0 : v, so NaN and -0 pass through).
// beta == 0 never reads C; alpha == 0 or K == 0 never reads A or B (C = beta * C, then the
// epilogue), as BLAS does. M == 0 or N == 0 does nothing.
// It is: the launcher (host-callable, device pointers, asynchronous on `stream`); the kernels
// are hand-written (no cuBLAS) in gemm.cu. It is not: validation (the caller checks sizes
// and that every pointer is device memory of the right extent) or synchronisation: the
// returned error is the launch's (a fault inside the kernel shows at the next sync).
// No TF32: every product is a float FMA.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "cpu/gemm.h"  // GemmEpilogue, GemmActivation (plain structs, shared with the CPU)

namespace gf {
namespace cuda {

cudaError_t gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc, const GemmEpilogue<float>& epilogue, cudaStream_t stream);

cudaError_t gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc, cudaStream_t stream);

// Which kernel computes a product. Auto (the default) picks from the shape and the device's
// SM count: Simple (16 x 16 tiles, one output per thread) when M or N is below 32, Tile128
// (128 x 128 block tile, 8 x 8 per thread) when its tiles fill every SM, else Tile64.
// Scale is what alpha == 0 or K == 0 runs whatever is set. Tests and the bench force a path
// to reach each kernel at any size; the setting is process-wide.
enum class GemmPath { Auto, Simple, Tile64, Tile128, Scale };
void set_gemm_path(GemmPath p);
GemmPath gemm_path();
const char* gemm_path_name(GemmPath p);
// The path gemm() takes for this shape on a device with `multiprocessors` SMs.
GemmPath gemm_choose_path(int64_t M, int64_t N, int64_t K, float alpha, int multiprocessors);

}  // namespace cuda
}  // namespace gf

// General matrix multiply, BLAS-shaped and row-major:
//   C = alpha * op(A) * op(B) + beta * C,  op(A): M x K, op(B): K x N, C: M x N.
// A is stored M x K (lda >= K) or, when transA, K x M (lda >= M); likewise B.
// It is: the kernel entry point. It is not: argument validation (the binding does that; the
// kernel trusts every size and pointer it is given).
#pragma once
#include <cstdint>

namespace gf {

// float uses the micro-kernel chosen in cpu_features.h; double uses a portable blocked path
// (double exists for gradcheck). beta == 0 never reads C, so NaN/Inf already in C is ignored.
// alpha == 0 or K == 0 never reads A or B (C = beta * C), as BLAS does.
template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// What is applied to C as the product is stored (while the tile is still in L1), so a Dense or
// convolution layer needs no separate passes for its bias and activation:
//   C = act(alpha * op(A) * op(B) + beta * C + bias), bias (length N, per column) optional.
enum class GemmActivation { Linear, Relu };
template <typename T>
struct GemmEpilogue {
  const T* bias = nullptr;
  GemmActivation act = GemmActivation::Linear;
  bool empty() const { return bias == nullptr && act == GemmActivation::Linear; }
};

template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc,
          const GemmEpilogue<T>& epilogue);

// When GEMM splits work over the thread pool. Auto (the default): products of at least 2^22
// multiply-adds, and only while calls through the pool have been faster than calls on the
// calling thread (timed as they run; see AdaptiveParallel in threadpool.h and gemm.cc).
// Always: every product with more than one work item (tests use it to reach the parallel code
// on any machine). Never: the calling thread only.
enum class GemmParallel { Auto, Always, Never };
void set_gemm_parallel(GemmParallel p);

extern template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                 int64_t, const float*, int64_t, float, float*, int64_t);
extern template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                  int64_t, const double*, int64_t, double, double*, int64_t);
extern template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                 int64_t, const float*, int64_t, float, float*, int64_t,
                                 const GemmEpilogue<float>&);
extern template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                  int64_t, const double*, int64_t, double, double*, int64_t,
                                  const GemmEpilogue<double>&);

}  // namespace gf

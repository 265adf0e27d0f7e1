// AVX2+FMA float GEMM micro-kernel: a 6x16 tile of C held in 12 ymm accumulators; per k step
// two aligned loads of B and six broadcasts of A feed 12 FMAs.
// Compiled with -mavx2 -mfma; called only when CPUID reports both (see cpu_features.cc).
// Not here: packing, blocking, edges, threads (gemm.cc).
#include <immintrin.h>

#include "cpu/gemm_microkernels.h"

namespace gf {

void gemm_avx2_6x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                    float alpha, float beta) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();

  // Warm the C rows we will write at the end while the FMAs run.
  for (int i = 0; i < 6; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);

#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
    __m256 av;
    av = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
    a += 6;
    b += 16;
  }

  const __m256 va = _mm256_set1_ps(alpha);
  if (beta == 0.0f) {
    // BLAS semantics: C's old contents are never read.
    auto store = [&](float* row, __m256 x0, __m256 x1) {
      _mm256_storeu_ps(row, _mm256_mul_ps(va, x0));
      _mm256_storeu_ps(row + 8, _mm256_mul_ps(va, x1));
    };
    store(c + 0 * ldc, c00, c01); store(c + 1 * ldc, c10, c11); store(c + 2 * ldc, c20, c21);
    store(c + 3 * ldc, c30, c31); store(c + 4 * ldc, c40, c41); store(c + 5 * ldc, c50, c51);
  } else {
    const __m256 vb = _mm256_set1_ps(beta);
    auto update = [&](float* row, __m256 x0, __m256 x1) {
      _mm256_storeu_ps(row, _mm256_fmadd_ps(va, x0, _mm256_mul_ps(vb, _mm256_loadu_ps(row))));
      _mm256_storeu_ps(row + 8, _mm256_fmadd_ps(va, x1, _mm256_mul_ps(vb, _mm256_loadu_ps(row + 8))));
    };
    update(c + 0 * ldc, c00, c01); update(c + 1 * ldc, c10, c11); update(c + 2 * ldc, c20, c21);
    update(c + 3 * ldc, c30, c31); update(c + 4 * ldc, c40, c41); update(c + 5 * ldc, c50, c51);
  }
}

}  // namespace gf

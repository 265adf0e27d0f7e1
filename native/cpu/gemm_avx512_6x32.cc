// AVX-512F float GEMM micro-kernel: a 6x32 tile of C held in 12 zmm accumulators; per k step
// two aligned loads of B and six broadcasts of A (folded into the FMAs) feed 12 FMAs.
// Compiled with -mavx512f (and -mavx512vl for the compiler's own choices); called only when
// CPUID and XGETBV say the CPU and OS support AVX-512 (see cpu_features.cc).
// Not here: packing, blocking, edges, threads (gemm.cc).
#include <immintrin.h>

#include "cpu/gemm_microkernels.h"

namespace gf {

void gemm_avx512_6x32(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                      float alpha, float beta) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
  __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
  __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
  __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();

  for (int i = 0; i < 6; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }

#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = _mm512_load_ps(b + 16);
    __m512 av;
    av = _mm512_set1_ps(a[0]); c00 = _mm512_fmadd_ps(av, b0, c00); c01 = _mm512_fmadd_ps(av, b1, c01);
    av = _mm512_set1_ps(a[1]); c10 = _mm512_fmadd_ps(av, b0, c10); c11 = _mm512_fmadd_ps(av, b1, c11);
    av = _mm512_set1_ps(a[2]); c20 = _mm512_fmadd_ps(av, b0, c20); c21 = _mm512_fmadd_ps(av, b1, c21);
    av = _mm512_set1_ps(a[3]); c30 = _mm512_fmadd_ps(av, b0, c30); c31 = _mm512_fmadd_ps(av, b1, c31);
    av = _mm512_set1_ps(a[4]); c40 = _mm512_fmadd_ps(av, b0, c40); c41 = _mm512_fmadd_ps(av, b1, c41);
    av = _mm512_set1_ps(a[5]); c50 = _mm512_fmadd_ps(av, b0, c50); c51 = _mm512_fmadd_ps(av, b1, c51);
    a += 6;
    b += 32;
  }

  const __m512 va = _mm512_set1_ps(alpha);
  if (beta == 0.0f) {
    // BLAS semantics: C's old contents are never read.
    auto store = [&](float* row, __m512 x0, __m512 x1) {
      _mm512_storeu_ps(row, _mm512_mul_ps(va, x0));
      _mm512_storeu_ps(row + 16, _mm512_mul_ps(va, x1));
    };
    store(c + 0 * ldc, c00, c01); store(c + 1 * ldc, c10, c11); store(c + 2 * ldc, c20, c21);
    store(c + 3 * ldc, c30, c31); store(c + 4 * ldc, c40, c41); store(c + 5 * ldc, c50, c51);
  } else {
    const __m512 vb = _mm512_set1_ps(beta);
    auto update = [&](float* row, __m512 x0, __m512 x1) {
      _mm512_storeu_ps(row, _mm512_fmadd_ps(va, x0, _mm512_mul_ps(vb, _mm512_loadu_ps(row))));
      _mm512_storeu_ps(row + 16, _mm512_fmadd_ps(va, x1, _mm512_mul_ps(vb, _mm512_loadu_ps(row + 16))));
    };
    update(c + 0 * ldc, c00, c01); update(c + 1 * ldc, c10, c11); update(c + 2 * ldc, c20, c21);
    update(c + 3 * ldc, c30, c31); update(c + 4 * ldc, c40, c41); update(c + 5 * ldc, c50, c51);
  }
}

}  // namespace gf

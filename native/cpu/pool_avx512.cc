// AVX-512F float max pooling forward without argmax (inference): per output pixel, each run of
// 16 channels keeps its running max in a register over the window's taps and is stored once,
// where the portable loop (pool.cc) reads and writes y at every tap, 4 lanes at a time.
// Same rule as pool.cc: first max in (kh, kw) order wins, NaN wins; an empty window gives -Inf.
// Compiled with -mavx512f; called only when cpu_features reports AVX-512 (pool.cc). Every
// helper has an avx512 name and this file includes no header with inline code.
// Not here: the choice of version, threads (pool.cc).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // avx512fintrin.h's undefined merge sources
#endif
#include <immintrin.h>

#include <cstdint>

#include "cpu/pool_isa.h"

namespace gf {

void maxpool2d_rows_avx512_f32(const Pool2dShape& s, const float* x, float* y, int64_t i0,
                               int64_t i1) {
  const int64_t C = s.C;
  const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
  for (int64_t i = i0; i < i1; ++i) {  // i = n*OH + oh
    const int64_t n = i / s.OH, oh = i % s.OH;
    const int64_t hs = oh * s.sh - s.pad_top;
    const int64_t h0 = hs < 0 ? 0 : hs, h1 = hs + s.KH < s.H ? hs + s.KH : s.H;
    for (int64_t ow = 0; ow < s.OW; ++ow) {
      float* yo = y + (i * s.OW + ow) * C;
      const int64_t ws = ow * s.sw - s.pad_left;
      const int64_t w0 = ws < 0 ? 0 : ws, w1 = ws + s.KW < s.W ? ws + s.KW : s.W;
      const bool empty = h0 >= h1 || w0 >= w1;
      const float* first = x + ((n * s.H + h0) * s.W + w0) * C;
      for (int64_t c = 0; c < C; c += 16) {
        const __mmask16 m = C - c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (C - c)) - 1);
        if (empty) {
          _mm512_mask_storeu_ps(yo + c, m, neg_inf);
          continue;
        }
        // Without NaN, max(v, best) is the rule: it returns its second operand (the earlier
        // value) on ties, which only +0 and -0 can tell apart. A window with a NaN (rare) runs
        // again with the exact rule.
        __m512 best = _mm512_maskz_loadu_ps(m, first + c);
        __mmask16 nan = _mm512_cmp_ps_mask(best, best, _CMP_UNORD_Q);
        for (int64_t ih = h0; ih < h1; ++ih) {
          const float* row = x + ((n * s.H + ih) * s.W) * C + c;
          for (int64_t iw = ih == h0 ? w0 + 1 : w0; iw < w1; ++iw) {
            const __m512 v = _mm512_maskz_loadu_ps(m, row + iw * C);
            nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
            best = _mm512_max_ps(v, best);
          }
        }
        if (nan) {
          best = _mm512_maskz_loadu_ps(m, first + c);
          for (int64_t ih = h0; ih < h1; ++ih) {
            const float* row = x + ((n * s.H + ih) * s.W) * C + c;
            for (int64_t iw = ih == h0 ? w0 + 1 : w0; iw < w1; ++iw) {
              const __m512 v = _mm512_maskz_loadu_ps(m, row + iw * C);
              // v > best, or v is NaN and best is not
              const __mmask16 take = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
                                     (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) &
                                      _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q));
              best = _mm512_mask_mov_ps(best, take, v);
            }
          }
        }
        _mm512_mask_storeu_ps(yo + c, m, best);
      }
    }
  }
}

}  // namespace gf

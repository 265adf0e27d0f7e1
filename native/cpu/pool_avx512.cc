// AVX-512F float max pooling. Forward (with or without argmax): per output pixel, each run of
// 16 channels keeps its running max (and its position) in registers over the window's taps and
// is stored once, where the portable loop (pool.cc) reads and writes y and argmax at every tap.
// Same rule as pool.cc: first max in (kh, kw) order wins, NaN wins; an empty window gives -Inf
// (index -1). Backward: each argmax run is compared with the window's tap positions and dy added
// where it matches, a masked add per tap instead of one scattered scalar add per entry; windows
// that do not overlap store each tap instead (backward_image_avx512).
// The two forward loops are written out in the exported functions themselves: GCC 12 compiled
// the same loops as a helper (a template for both, or a plain function inlined into the
// exported one) short of registers, counters and pointers on the stack (11x11x64 /2: without
// argmax 0.054-0.057 against 0.047 ms, with argmax 0.069 against 0.059).
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

namespace {

inline void zero_avx512(float* p, int64_t count) {
  for (int64_t e = 0; e < count; e += 16) {
    const __mmask16 m = count - e >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (count - e)) - 1);
    _mm512_mask_storeu_ps(p + e, m, _mm512_setzero_ps());
  }
}

// The backward of image n. With DISJOINT (windows that do not overlap: strides >= window) an
// element of dx receives at most one gradient, its own window's, so each tap of a window is
// stored as 0 + (dy where the argmax names that tap, else 0), the portable sum's bits, with no
// load of dx and no mask per tap, and only the pixels no window covers are zeroed first. Returns
// false, leaving dx to be redone, at the first entry outside its window (only from an argmax
// the forward did not compute), whose add the general version must order. The general version
// adds dy by masked adds where the argmax matches a tap, and an entry outside its window takes
// the portable scalar add, where inside the image.
template <bool DISJOINT>
bool backward_image_avx512(const Pool2dShape& s, const float* dy, const int32_t* argmax,
                           float* dxn, int64_t n) {
  const int64_t C = s.C, W = s.W, hw = s.H * W;
  if constexpr (DISJOINT) maxpool2d_zero_uncovered(s, dxn);
  else zero_avx512(dxn, hw * C);
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t oh = 0; oh < s.OH; ++oh) {
    const int64_t hs = oh * s.sh - s.pad_top;
    const int64_t h0 = hs < 0 ? 0 : hs, h1 = hs + s.KH < s.H ? hs + s.KH : s.H;
    for (int64_t ow = 0; ow < s.OW; ++ow) {
      const int64_t ws = ow * s.sw - s.pad_left;
      const int64_t w0 = ws < 0 ? 0 : ws, w1 = ws + s.KW < W ? ws + s.KW : W;
      const int64_t at_out = ((n * s.OH + oh) * s.OW + ow) * C;
      const float* g = dy + at_out;
      const int32_t* a = argmax + at_out;
      for (int64_t c = 0; c < C; c += 16) {
        const __mmask16 m = C - c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (C - c)) - 1);
        // each entry read once (pool.h: the array may change under us), here into a register
        const __m512i av = _mm512_maskz_loadu_epi32(m, a + c);
        const __m512 gv = _mm512_maskz_loadu_ps(m, g + c);
        __mmask16 matched = 0;
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) {
            const int32_t pos = static_cast<int32_t>(ih * W + iw);
            const __mmask16 hit = _mm512_mask_cmpeq_epi32_mask(m, av, _mm512_set1_epi32(pos));
            float* d = dxn + pos * C + c;
            if constexpr (DISJOINT) {
              matched |= hit;
              _mm512_mask_storeu_ps(d, m, _mm512_add_ps(zero, _mm512_maskz_mov_ps(hit, gv)));
            } else {
              if (hit == 0) continue;
              matched |= hit;
              _mm512_mask_storeu_ps(d, hit, _mm512_add_ps(_mm512_maskz_loadu_ps(hit, d), gv));
            }
          }
        const __mmask16 rest = m & ~matched;
        if (rest == 0) continue;
        if constexpr (DISJOINT) return false;
        alignas(64) int32_t idx[16];
        alignas(64) float gs[16];
        _mm512_store_si512(idx, av);
        _mm512_store_ps(gs, gv);
        for (int l = 0; l < 16; ++l)
          if (((rest >> l) & 1) && idx[l] >= 0 && idx[l] < hw) dxn[idx[l] * C + c + l] += gs[l];
      }
    }
  }
  return true;
}

}  // namespace

// Without argmax (inference).
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

// With argmax (training).
void maxpool2d_argmax_rows_avx512_f32(const Pool2dShape& s, const float* x, float* y,
                                      int32_t* argmax, int64_t i0, int64_t i1) {
  const int64_t C = s.C;
  const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
  for (int64_t i = i0; i < i1; ++i) {
    const int64_t n = i / s.OH, oh = i % s.OH;
    const int64_t hs = oh * s.sh - s.pad_top;
    const int64_t h0 = hs < 0 ? 0 : hs, h1 = hs + s.KH < s.H ? hs + s.KH : s.H;
    for (int64_t ow = 0; ow < s.OW; ++ow) {
      float* yo = y + (i * s.OW + ow) * C;
      int32_t* ao = argmax + (i * s.OW + ow) * C;
      const int64_t ws = ow * s.sw - s.pad_left;
      const int64_t w0 = ws < 0 ? 0 : ws, w1 = ws + s.KW < s.W ? ws + s.KW : s.W;
      const bool empty = h0 >= h1 || w0 >= w1;
      const float* first = x + ((n * s.H + h0) * s.W + w0) * C;
      const __m512i first_pos = _mm512_set1_epi32(static_cast<int32_t>(h0 * s.W + w0));
      for (int64_t c = 0; c < C; c += 16) {
        const __mmask16 m = C - c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (C - c)) - 1);
        if (empty) {
          _mm512_mask_storeu_ps(yo + c, m, neg_inf);
          _mm512_mask_storeu_epi32(ao + c, m, _mm512_set1_epi32(-1));
          continue;
        }
        // Without NaN, "greater than the running max" is the rule (ties keep the earlier tap,
        // also +0 against -0). A window with a NaN (rare) runs again with the exact rule.
        __m512 best = _mm512_maskz_loadu_ps(m, first + c);
        __m512i at = first_pos;
        __mmask16 nan = _mm512_cmp_ps_mask(best, best, _CMP_UNORD_Q);
        for (int64_t ih = h0; ih < h1; ++ih) {
          const float* row = x + ((n * s.H + ih) * s.W) * C + c;
          for (int64_t iw = ih == h0 ? w0 + 1 : w0; iw < w1; ++iw) {
            const __m512 v = _mm512_maskz_loadu_ps(m, row + iw * C);
            nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
            const __mmask16 take = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
            best = _mm512_mask_mov_ps(best, take, v);
            at = _mm512_mask_mov_epi32(at, take, _mm512_set1_epi32(static_cast<int32_t>(ih * s.W + iw)));
          }
        }
        if (nan) {
          best = _mm512_maskz_loadu_ps(m, first + c);
          at = first_pos;
          for (int64_t ih = h0; ih < h1; ++ih) {
            const float* row = x + ((n * s.H + ih) * s.W) * C + c;
            for (int64_t iw = ih == h0 ? w0 + 1 : w0; iw < w1; ++iw) {
              const __m512 v = _mm512_maskz_loadu_ps(m, row + iw * C);
              // v > best, or v is NaN and best is not
              const __mmask16 take = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
                                     (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) &
                                      _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q));
              best = _mm512_mask_mov_ps(best, take, v);
              at = _mm512_mask_mov_epi32(at, take, _mm512_set1_epi32(static_cast<int32_t>(ih * s.W + iw)));
            }
          }
        }
        _mm512_mask_storeu_ps(yo + c, m, best);
        _mm512_mask_storeu_epi32(ao + c, m, at);
      }
    }
  }
}

void maxpool2d_backward_images_avx512_f32(const Pool2dShape& s, const float* dy,
                                          const int32_t* argmax, float* dx, int64_t n0,
                                          int64_t n1) {
  const int64_t img = s.H * s.W * s.C;
  const bool disjoint = s.sh >= s.KH && s.sw >= s.KW;
  for (int64_t n = n0; n < n1; ++n) {
    if (disjoint && backward_image_avx512<true>(s, dy, argmax, dx + n * img, n)) continue;
    backward_image_avx512<false>(s, dy, argmax, dx + n * img, n);
  }
}

}  // namespace gf

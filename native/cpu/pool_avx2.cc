// AVX2 float max pooling, for CPUs without AVX-512 (Zen 2/3, Intel client cores): the same
// structure as pool_avx512.cc on 8-lane runs. Forward (with or without argmax): each run of 8
// channels keeps its running max (and position) in registers over the window's taps and is
// stored once, where the portable loop (pool.cc, compiled for plain x86-64) reads and writes y
// and argmax at every tap. Backward: each argmax run is compared with the window's tap
// positions and dy added, by blends, where it matches. AVX2 has no mask registers: the last
// C % 8 channels of a pixel take scalar loops with the portable rule, so every result has the
// portable loops' bits (test_pool compares them).
// Same rule as pool.cc: first max in (kh, kw) order wins, NaN wins; an empty window gives -Inf
// (index -1).
// Compiled with -mavx2; called only when cpu_features reports AVX2 (pool.cc). Every helper
// has an avx2 name and this file includes no header with inline code.
// Not here: the choice of version, threads (pool.cc).
#include <immintrin.h>

#include <cstdint>

#include "cpu/pool_isa.h"

namespace gf {

namespace {

// The portable rule for one channel: v replaces the running max when greater, or when v is
// NaN and the max is not.
inline bool takes_avx2(float v, float best) { return (v > best) | ((v != v) & (best == best)); }

// Output rows [i0, i1) of i = n*OH + oh; argmax written when WITH_ARGMAX.
template <bool WITH_ARGMAX>
void maxpool_rows_avx2(const Pool2dShape& s, const float* x, float* y, int32_t* argmax,
                       int64_t i0, int64_t i1) {
  const int64_t C = s.C, C8 = C / 8 * 8;
  for (int64_t i = i0; i < i1; ++i) {
    const int64_t n = i / s.OH, oh = i % s.OH;
    const int64_t hs = oh * s.sh - s.pad_top;
    const int64_t h0 = hs < 0 ? 0 : hs, h1 = hs + s.KH < s.H ? hs + s.KH : s.H;
    for (int64_t ow = 0; ow < s.OW; ++ow) {
      float* yo = y + (i * s.OW + ow) * C;
      int32_t* ao = WITH_ARGMAX ? argmax + (i * s.OW + ow) * C : nullptr;
      const int64_t ws = ow * s.sw - s.pad_left;
      const int64_t w0 = ws < 0 ? 0 : ws, w1 = ws + s.KW < s.W ? ws + s.KW : s.W;
      if (h0 >= h1 || w0 >= w1) {  // the window covers no input element
        for (int64_t c = 0; c < C; ++c) {
          yo[c] = -__builtin_inff();
          if constexpr (WITH_ARGMAX) ao[c] = -1;
        }
        continue;
      }
      const float* first = x + ((n * s.H + h0) * s.W + w0) * C;
      const int32_t first_pos = static_cast<int32_t>(h0 * s.W + w0);
      for (int64_t c = 0; c < C8; c += 8) {
        // Without NaN, "greater than the running max" is the rule (ties keep the earlier tap,
        // also +0 against -0; max(v, best) returns its second operand on ties, the same). A
        // window with a NaN (rare) runs again with the exact rule.
        __m256 best = _mm256_loadu_ps(first + c);
        __m256i at = _mm256_set1_epi32(first_pos);
        __m256 nan = _mm256_cmp_ps(best, best, _CMP_UNORD_Q);
        for (int64_t ih = h0; ih < h1; ++ih) {
          const float* row = x + ((n * s.H + ih) * s.W) * C + c;
          for (int64_t iw = ih == h0 ? w0 + 1 : w0; iw < w1; ++iw) {
            const __m256 v = _mm256_loadu_ps(row + iw * C);
            nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
            if constexpr (WITH_ARGMAX) {
              const __m256 take = _mm256_cmp_ps(v, best, _CMP_GT_OQ);
              best = _mm256_blendv_ps(best, v, take);
              at = _mm256_castps_si256(_mm256_blendv_ps(
                  _mm256_castsi256_ps(at),
                  _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int32_t>(ih * s.W + iw))), take));
            } else {
              best = _mm256_max_ps(v, best);
            }
          }
        }
        if (_mm256_movemask_ps(nan) != 0) {
          best = _mm256_loadu_ps(first + c);
          at = _mm256_set1_epi32(first_pos);
          for (int64_t ih = h0; ih < h1; ++ih) {
            const float* row = x + ((n * s.H + ih) * s.W) * C + c;
            for (int64_t iw = ih == h0 ? w0 + 1 : w0; iw < w1; ++iw) {
              const __m256 v = _mm256_loadu_ps(row + iw * C);
              // v > best, or v is NaN and best is not
              const __m256 take = _mm256_or_ps(
                  _mm256_cmp_ps(v, best, _CMP_GT_OQ),
                  _mm256_and_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), _mm256_cmp_ps(best, best, _CMP_ORD_Q)));
              best = _mm256_blendv_ps(best, v, take);
              if constexpr (WITH_ARGMAX)
                at = _mm256_castps_si256(_mm256_blendv_ps(
                    _mm256_castsi256_ps(at),
                    _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int32_t>(ih * s.W + iw))), take));
            }
          }
        }
        _mm256_storeu_ps(yo + c, best);
        if constexpr (WITH_ARGMAX) _mm256_storeu_si256(reinterpret_cast<__m256i*>(ao + c), at);
      }
      // The last C % 8 channels, one at a time with the portable rule.
      for (int64_t c = C8; c < C; ++c) {
        float best = first[c];
        int32_t at = first_pos;
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = ih == h0 ? w0 + 1 : w0; iw < w1; ++iw) {
            const float v = x[((n * s.H + ih) * s.W + iw) * C + c];
            if (takes_avx2(v, best)) {
              best = v;
              at = static_cast<int32_t>(ih * s.W + iw);
            }
          }
        yo[c] = best;
        if constexpr (WITH_ARGMAX) ao[c] = at;
      }
    }
  }
}

inline void zero_avx2(float* p, int64_t count) {
  int64_t e = 0;
  for (; e + 8 <= count; e += 8) _mm256_storeu_ps(p + e, _mm256_setzero_ps());
  for (; e < count; ++e) p[e] = 0.0f;
}

// The backward of image n, as backward_image_avx512 (pool_avx512.cc): with DISJOINT each tap of
// a window is stored as 0 + (dy where the argmax names it, else 0), only the uncovered pixels
// zeroed first, and false is returned at the first entry outside its window; the general
// version adds dy by blends where the argmax matches a tap (lanes not hit are stored back
// unchanged: this thread owns image n), and an entry outside its window takes the portable
// scalar add. The last C % 8 channels run the portable loop.
template <bool DISJOINT>
bool backward_image_avx2(const Pool2dShape& s, const float* dy, const int32_t* argmax,
                         float* dxn, int64_t n) {
  const int64_t C = s.C, C8 = C / 8 * 8, W = s.W, hw = s.H * W;
  if constexpr (DISJOINT) maxpool2d_zero_uncovered(s, dxn);
  else zero_avx2(dxn, hw * C);
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t oh = 0; oh < s.OH; ++oh) {
    const int64_t hs = oh * s.sh - s.pad_top;
    const int64_t h0 = hs < 0 ? 0 : hs, h1 = hs + s.KH < s.H ? hs + s.KH : s.H;
    for (int64_t ow = 0; ow < s.OW; ++ow) {
      const int64_t ws = ow * s.sw - s.pad_left;
      const int64_t w0 = ws < 0 ? 0 : ws, w1 = ws + s.KW < W ? ws + s.KW : W;
      const int64_t at_out = ((n * s.OH + oh) * s.OW + ow) * C;
      const float* g = dy + at_out;
      const int32_t* a = argmax + at_out;
      for (int64_t c = 0; c < C8; c += 8) {
        // each entry read once (pool.h: the array may change under us), here into a register
        const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + c));
        const __m256 gv = _mm256_loadu_ps(g + c);
        __m256 matched = zero;
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) {
            const int32_t pos = static_cast<int32_t>(ih * W + iw);
            const __m256 hit = _mm256_castsi256_ps(_mm256_cmpeq_epi32(av, _mm256_set1_epi32(pos)));
            float* d = dxn + pos * C + c;
            if constexpr (DISJOINT) {
              matched = _mm256_or_ps(matched, hit);
              _mm256_storeu_ps(d, _mm256_add_ps(zero, _mm256_and_ps(gv, hit)));
            } else {
              if (_mm256_movemask_ps(hit) == 0) continue;
              matched = _mm256_or_ps(matched, hit);
              const __m256 old = _mm256_loadu_ps(d);
              _mm256_storeu_ps(d, _mm256_blendv_ps(old, _mm256_add_ps(old, gv), hit));
            }
          }
        const int rest = ~_mm256_movemask_ps(matched) & 0xFF;
        if (rest == 0) continue;
        if constexpr (DISJOINT) return false;
        alignas(32) int32_t idx[8];
        alignas(32) float gs[8];
        _mm256_store_si256(reinterpret_cast<__m256i*>(idx), av);
        _mm256_store_ps(gs, gv);
        for (int l = 0; l < 8; ++l)
          if (((rest >> l) & 1) && idx[l] >= 0 && idx[l] < hw) dxn[idx[l] * C + c + l] += gs[l];
      }
      // each index read once, as a relaxed atomic load (a plain load into a local)
      for (int64_t c = C8; c < C; ++c) {
        const int32_t at = __atomic_load_n(a + c, __ATOMIC_RELAXED);
        if constexpr (DISJOINT) {
          bool matched = false;  // every tap is written, as in the runs above
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) {
              const int64_t pos = ih * W + iw;
              matched |= pos == at;
              dxn[pos * C + c] = pos == at ? 0.0f + g[c] : 0.0f;
            }
          if (!matched) return false;
        } else {
          if (at >= 0 && at < hw) dxn[at * C + c] += g[c];
        }
      }
    }
  }
  return true;
}

}  // namespace

void maxpool2d_rows_avx2_f32(const Pool2dShape& s, const float* x, float* y, int64_t i0,
                             int64_t i1) {
  maxpool_rows_avx2<false>(s, x, y, nullptr, i0, i1);
}

void maxpool2d_argmax_rows_avx2_f32(const Pool2dShape& s, const float* x, float* y,
                                    int32_t* argmax, int64_t i0, int64_t i1) {
  maxpool_rows_avx2<true>(s, x, y, argmax, i0, i1);
}

void maxpool2d_backward_images_avx2_f32(const Pool2dShape& s, const float* dy,
                                        const int32_t* argmax, float* dx, int64_t n0,
                                        int64_t n1) {
  const int64_t img = s.H * s.W * s.C;
  const bool disjoint = s.sh >= s.KH && s.sw >= s.KW;
  for (int64_t n = n0; n < n1; ++n) {
    if (disjoint && backward_image_avx2<true>(s, dy, argmax, dx + n * img, n)) continue;
    backward_image_avx2<false>(s, dy, argmax, dx + n * img, n);
  }
}

}  // namespace gf

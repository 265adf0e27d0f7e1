// AVX-512F direct convolution for a small KH*KW*C (the 1-channel first layer of an MNIST CNN,
// 3x3x1 = 9 taps): im2col + GEMM spends most of its time there writing, reading and storing a
// 9-column matrix and running 9-step K loops; here a run of P output pixels of one output row
// keeps P x 2 zmm of accumulators (32 channels) and broadcasts each input tap once.
// Same arithmetic as im2col + the AVX-512 GEMM (conv_isa.h), so the two agree bit for bit.
// Compiled with -mavx512f; called only when cpu_features reports AVX-512 (conv.cc). Every
// helper has an avx512 name and this file includes no header with inline code.
// Not here: the choice of path, threads, validation (conv.cc, the binding).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // avx512fintrin.h's undefined merge sources
#endif
#include <immintrin.h>

#include <cstdint>

#include "cpu/conv_isa.h"

namespace gf {
namespace {

inline __mmask16 conv_avx512_mask(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

// P output pixels (n, oh, ow0 .. ow0+P-1) x channels [o0, o0 + 32) (masked past O).
template <int P>
void conv_avx512_pixels(const Conv2dShape& s, const float* x, const float* w, const float* bias,
                        bool relu, int64_t n, int64_t oh, int64_t ow0, int64_t o0, float* y) {
  const int64_t C = s.C, O = s.O;
  const __mmask16 m0 = conv_avx512_mask(O - o0), m1 = conv_avx512_mask(O - o0 - 16);
  __m512 acc[P][2];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) acc[p][0] = acc[p][1] = _mm512_setzero_ps();
  const float* xn = x + n * s.H * s.W * C;
  const float* wk = w + o0;
  for (int64_t kh = 0; kh < s.KH; ++kh) {
    const int64_t ih = oh * s.sh - s.pad_top + kh * s.dh;
    const bool row_in = ih >= 0 && ih < s.H;
    for (int64_t kw = 0; kw < s.KW; ++kw) {
      const int64_t iw0 = ow0 * s.sw - s.pad_left + kw * s.dw;  // pixel p reads iw0 + p*sw
      if (row_in && iw0 >= 0 && iw0 + (P - 1) * s.sw < s.W) {
        // every pixel's tap inside the input (all but the padded edges)
        const float* xt = xn + (ih * s.W + iw0) * C;
        for (int64_t c = 0; c < C; ++c, wk += O) {
          const __m512 w0 = _mm512_maskz_loadu_ps(m0, wk), w1 = _mm512_maskz_loadu_ps(m1, wk + 16);
#pragma GCC unroll 16
          for (int p = 0; p < P; ++p) {
            const __m512 xv = _mm512_set1_ps(xt[p * s.sw * C + c]);
            acc[p][0] = _mm512_fmadd_ps(xv, w0, acc[p][0]);
            acc[p][1] = _mm512_fmadd_ps(xv, w1, acc[p][1]);
          }
        }
        continue;
      }
      for (int64_t c = 0; c < C; ++c, wk += O) {
        const __m512 w0 = _mm512_maskz_loadu_ps(m0, wk), w1 = _mm512_maskz_loadu_ps(m1, wk + 16);
#pragma GCC unroll 16
        for (int p = 0; p < P; ++p) {
          // an out-of-input tap is a zero in im2col, and the GEMM multiplies it too
          const int64_t iw = iw0 + p * s.sw;
          const bool in = row_in && iw >= 0 && iw < s.W;
          const __m512 xv = _mm512_set1_ps(in ? xn[(ih * s.W + iw) * C + c] : 0.0f);
          acc[p][0] = _mm512_fmadd_ps(xv, w0, acc[p][0]);
          acc[p][1] = _mm512_fmadd_ps(xv, w1, acc[p][1]);
        }
      }
    }
  }
  const __m512 zero = _mm512_setzero_ps();
  const __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias + o0) : zero;
  const __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + o0 + 16) : zero;
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
    __m512 r0 = acc[p][0], r1 = acc[p][1];  // alpha = 1: the GEMM's alpha * acc is acc
    if (bias) {
      r0 = _mm512_add_ps(r0, b0);
      r1 = _mm512_add_ps(r1, b1);
    }
    if (relu) {
      r0 = _mm512_mask_mov_ps(r0, _mm512_cmp_ps_mask(r0, zero, _CMP_LT_OQ), zero);
      r1 = _mm512_mask_mov_ps(r1, _mm512_cmp_ps_mask(r1, zero, _CMP_LT_OQ), zero);
    }
    float* yp = y + p * O + o0;
    _mm512_mask_storeu_ps(yp, m0, r0);
    _mm512_mask_storeu_ps(yp + 16, m1, r1);
  }
}

constexpr int kPixels = 14;  // 14 x 2 accumulators + 2 weights + 1 broadcast: 31 of the 32 zmm

template <int P>
void conv_avx512_run_tail(int64_t left, const Conv2dShape& s, const float* x, const float* w,
                          const float* bias, bool relu, int64_t n, int64_t oh, int64_t ow0,
                          int64_t o0, float* y) {
  if constexpr (P > 1) {
    if (left < P) return conv_avx512_run_tail<P - 1>(left, s, x, w, bias, relu, n, oh, ow0, o0, y);
  }
  conv_avx512_pixels<P>(s, x, w, bias, relu, n, oh, ow0, o0, y);
}

// Filter gradient over output pixels [r0, r1) for taps [t0, t0 + T) (im2col columns) x
// channels [o0, o0 + 32): per tap 2 zmm of accumulators, one FMA chain over the pixels, each
// dy row loaded once and each input tap broadcast once. Writes the T x 32 block of dw; with db,
// also adds the pixels' dy column sums to db (runs of 64 pixels summed in float, then in double,
// as conv.cc's add_column_sums).
template <int T>
void conv_avx512_filter_taps(const Conv2dShape& s, const float* x, const float* dy, int64_t r0,
                             int64_t r1, int64_t t0, int64_t o0, float* dw, double* db) {
  const int64_t C = s.C, O = s.O, KWC = s.KW * C;
  const __mmask16 m0 = conv_avx512_mask(O - o0), m1 = conv_avx512_mask(O - o0 - 16);
  int64_t tap_h[T], tap_w[T], tap_off[T];  // each tap's offsets in its window, and in x
  for (int t = 0; t < T; ++t) {
    const int64_t k = t0 + t, kh = k / KWC, kw = k % KWC / C, c = k % C;
    tap_h[t] = kh * s.dh;
    tap_w[t] = kw * s.dw;
    tap_off[t] = (tap_h[t] * s.W + tap_w[t]) * C + c;
  }
  const int64_t reach_h = (s.KH - 1) * s.dh, reach_w = (s.KW - 1) * s.dw;
  __m512 acc[T][2];
#pragma GCC unroll 16
  for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
  __m512 run0 = _mm512_setzero_ps(), run1 = _mm512_setzero_ps();
  int run_len = 0;
  auto flush_bias = [&]() {
    alignas(64) float part[32];
    _mm512_store_ps(part, run0);
    _mm512_store_ps(part + 16, run1);
    for (int64_t o = 0; o < 32 && o0 + o < O; ++o) db[o0 + o] += part[o];
    run0 = run1 = _mm512_setzero_ps();
    run_len = 0;
  };
  const int64_t per_image = s.OH * s.OW;
  int64_t n = r0 / per_image, oh = r0 % per_image / s.OW, ow = r0 % s.OW;
  for (int64_t r = r0; r < r1; ++r) {
    const float* g = dy + r * O + o0;
    const __m512 g0 = _mm512_maskz_loadu_ps(m0, g), g1 = _mm512_maskz_loadu_ps(m1, g + 16);
    const int64_t ih0 = oh * s.sh - s.pad_top, iw0 = ow * s.sw - s.pad_left;
    const float* xn = x + n * s.H * s.W * C;
    if (ih0 >= 0 && ih0 + reach_h < s.H && iw0 >= 0 && iw0 + reach_w < s.W) {
      const float* xw = xn + (ih0 * s.W + iw0) * C;  // every tap of the window inside the input
#pragma GCC unroll 16
      for (int t = 0; t < T; ++t) {
        const __m512 xv = _mm512_set1_ps(xw[tap_off[t]]);
        acc[t][0] = _mm512_fmadd_ps(xv, g0, acc[t][0]);
        acc[t][1] = _mm512_fmadd_ps(xv, g1, acc[t][1]);
      }
    } else {
#pragma GCC unroll 16
      for (int t = 0; t < T; ++t) {
        // an out-of-input tap is a zero in im2col, and the GEMM multiplies it too (0 * inf)
        const int64_t ih = ih0 + tap_h[t], iw = iw0 + tap_w[t];
        const bool in = ih >= 0 && ih < s.H && iw >= 0 && iw < s.W;
        const __m512 xv = _mm512_set1_ps(in ? xn[(ih0 * s.W + iw0) * C + tap_off[t]] : 0.0f);
        acc[t][0] = _mm512_fmadd_ps(xv, g0, acc[t][0]);
        acc[t][1] = _mm512_fmadd_ps(xv, g1, acc[t][1]);
      }
    }
    if (db) {
      run0 = _mm512_add_ps(run0, g0);
      run1 = _mm512_add_ps(run1, g1);
      if (++run_len == 64) flush_bias();
    }
    if (++ow == s.OW) {
      ow = 0;
      if (++oh == s.OH) {
        oh = 0;
        ++n;
      }
    }
  }
  if (db && run_len > 0) flush_bias();
#pragma GCC unroll 16
  for (int t = 0; t < T; ++t) {
    float* d = dw + (t0 + t) * O + o0;
    _mm512_mask_storeu_ps(d, m0, acc[t][0]);
    _mm512_mask_storeu_ps(d + 16, m1, acc[t][1]);
  }
}

constexpr int kFilterTaps = 12;  // 12 x 2 accumulators + 2 dy + 2 bias runs + 1 broadcast

template <int T>
void conv_avx512_filter_group(int64_t taps, const Conv2dShape& s, const float* x,
                              const float* dy, int64_t r0, int64_t r1, int64_t t0, int64_t o0,
                              float* dw, double* db) {
  if constexpr (T > 1) {
    if (taps < T) return conv_avx512_filter_group<T - 1>(taps, s, x, dy, r0, r1, t0, o0, dw, db);
  }
  conv_avx512_filter_taps<T>(s, x, dy, r0, r1, t0, o0, dw, db);
}

}  // namespace

void conv2d_direct_filter_avx512_f32(const Conv2dShape& s, const float* x, const float* dy,
                                     int64_t r0, int64_t r1, float* dw, double* db) {
  const int64_t kc = s.KH * s.KW * s.C;
  const int64_t groups = (kc + kFilterTaps - 1) / kFilterTaps;
  for (int64_t o0 = 0; o0 < s.O; o0 += 32)
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t t0 = g * kc / groups, t1 = (g + 1) * kc / groups;
      conv_avx512_filter_group<kFilterTaps>(t1 - t0, s, x, dy, r0, r1, t0, o0, dw, g == 0 ? db : nullptr);
    }
}

void conv2d_direct_rows_avx512_f32(const Conv2dShape& s, const float* x, const float* w,
                                   const float* bias, bool relu, int64_t r0, int64_t r1, float* y) {
  const int64_t per_image = s.OH * s.OW;
  for (int64_t r = r0; r < r1;) {
    const int64_t n = r / per_image, oh = r % per_image / s.OW, ow = r % s.OW;
    const int64_t run = (r1 - r < s.OW - ow ? r1 - r : s.OW - ow);  // pixels left in this row
    float* yr = y + (r - r0) * s.O;
    for (int64_t i = 0; i < run;) {
      const int64_t take = run - i < kPixels ? run - i : kPixels;
      for (int64_t o0 = 0; o0 < s.O; o0 += 32)
        conv_avx512_run_tail<kPixels>(take, s, x, w, bias, relu, n, oh, ow + i, o0, yr + i * s.O);
      i += take;
    }
    r += run;
  }
}

}  // namespace gf

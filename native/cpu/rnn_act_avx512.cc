// AVX-512F float sigmoid / tanh spans and backward gate-gradient rows for the recurrent gate
// passes (see rnn_act.h; the rows' formulas are rnn_grad.h's).
// Compiled with -mavx512f (and -mavx2 -mfma); called only when cpu_features reports AVX-512F,
// AVX-512VL, AVX2 and FMA (rnn_act.cc). Every helper has internal linkage and an avx512 name,
// and this file includes no header with inline code, so no AVX-512 code can be folded into a
// baseline function. Not here: the choice of version (rnn_act.cc).
// GCC 12 reports -Wmaybe-uninitialized inside avx512fintrin.h for intrinsics whose unmasked
// form passes _mm512_undefined_*() as the (ignored) merge source; a false positive.
// fp-contract=off: GCC (GNU C++ mode) would otherwise fuse a multiply and an add written as
// two intrinsics into one FMA; the gradient rows must round as the scalar loops do (the
// activations' FMAs are explicit _mm512_fmadd_ps and stay).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC optimize("fp-contract=off")
#endif
#include <immintrin.h>

#include "cpu/rnn_act.h"

namespace gf {
namespace {

// exp(a) for a <= 0 (or NaN, which gives garbage the callers replace): Cody-Waite reduction
// a = k ln2 + r, |r| <= ln2/2, exp(r) = 1 + r + r^2 P(r) (Cephes expf), times 2^k built in
// the exponent field. a is clamped at -88, where k = -127 makes 2^k exactly 0, so the result
// underflows to 0 instead of wrapping.
inline __m512 rnn_act_avx512_exp_nonpos(__m512 a) {
  a = _mm512_max_ps(a, _mm512_set1_ps(-88.0f));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(a, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), a);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 r2 = _mm512_mul_ps(r, r);
  p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  const __m512i e = _mm512_slli_epi32(
      _mm512_add_epi32(_mm512_cvtps_epi32(k), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

inline __m512 rnn_act_avx512_abs(__m512 x) {
  return _mm512_castsi512_ps(
      _mm512_and_epi32(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
}

// 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, e = exp(-|x|): no overflow, and full
// relative accuracy on the small side.
inline __m512 rnn_act_avx512_sigmoid_vec(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 e = rnn_act_avx512_exp_nonpos(_mm512_sub_ps(_mm512_setzero_ps(),
                                                           rnn_act_avx512_abs(x)));
  const __mmask16 nonneg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ);
  const __m512 num = _mm512_mask_blend_ps(nonneg, e, one);
  __m512 y = _mm512_div_ps(num, _mm512_add_ps(one, e));
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_mask_blend_ps(nan, y, x);
}

// sign(x) times: |x| + |x|^3 P(x^2) (Cephes tanhf) for |x| < 0.625, else (1 - e) / (1 + e) with
// e = exp(-2|x|). The sign is ORed in last so that tanh(-0) = -0.
inline __m512 rnn_act_avx512_tanh_vec(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 ax = rnn_act_avx512_abs(x);
  const __m512 z = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(-5.70498872745e-3f);
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.06390887954e-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531e-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036e-1f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422e-1f));
  const __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), ax, ax);  // |tanh|, sign below
  const __m512 e = rnn_act_avx512_exp_nonpos(_mm512_mul_ps(ax, _mm512_set1_ps(-2.0f)));
  const __m512 t = _mm512_div_ps(_mm512_sub_ps(one, e), _mm512_add_ps(one, e));
  const __m512i sign = _mm512_and_epi32(_mm512_castps_si512(x), _mm512_set1_epi32(int(0x80000000u)));
  const __mmask16 is_small = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ);
  const __m512 mag = _mm512_mask_blend_ps(is_small, t, small);
  const __m512 y = _mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(mag), sign));
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_mask_blend_ps(nan, y, x);
}

// The first `rem` lanes (all 16 when rem >= 16).
inline __mmask16 rnn_act_avx512_lanes(int64_t rem) {
  return rem >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << rem) - 1u);
}
inline __m512 rnn_act_avx512_ld(__mmask16 m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
inline void rnn_act_avx512_st(__mmask16 m, float* p, __m512 v) { _mm512_mask_storeu_ps(p, m, v); }
// dh + dy (dy nullptr: dh + 0, as the scalar loop adds, so that -0 becomes +0 alike)
inline __m512 rnn_act_avx512_dht(__mmask16 m, const float* dh, const float* dy) {
  return _mm512_add_ps(rnn_act_avx512_ld(m, dh),
                       dy ? rnn_act_avx512_ld(m, dy) : _mm512_setzero_ps());
}
// y * (1 - y): the sigmoid's derivative from its output
inline __m512 rnn_act_avx512_dsig(__m512 y) {
  return _mm512_mul_ps(y, _mm512_sub_ps(_mm512_set1_ps(1.0f), y));
}
// 1 - y*y: tanh's derivative from its output
inline __m512 rnn_act_avx512_dtanh(__m512 y) {
  return _mm512_sub_ps(_mm512_set1_ps(1.0f), _mm512_mul_ps(y, y));
}

}  // namespace

void rnn_act_avx512_lstm_grad_f32(const float* g, const float* cp, const float* dy, int64_t U,
                                  float* dh, float* dc, float* dg) {
  for (int64_t u = 0; u < U; u += 16) {
    const __mmask16 m = rnn_act_avx512_lanes(U - u);
    const __m512 i = rnn_act_avx512_ld(m, g + u), f = rnn_act_avx512_ld(m, g + U + u);
    const __m512 gg = rnn_act_avx512_ld(m, g + 2 * U + u), o = rnn_act_avx512_ld(m, g + 3 * U + u);
    const __m512 c_prev = rnn_act_avx512_ld(m, cp + u);
    const __m512 ac = rnn_act_avx512_tanh_vec(
        _mm512_add_ps(_mm512_mul_ps(f, c_prev), _mm512_mul_ps(i, gg)));
    const __m512 dht = rnn_act_avx512_dht(m, dh + u, dy ? dy + u : nullptr);
    const __m512 dct = _mm512_add_ps(rnn_act_avx512_ld(m, dc + u),
                                     _mm512_mul_ps(_mm512_mul_ps(dht, o), rnn_act_avx512_dtanh(ac)));
    rnn_act_avx512_st(m, dg + u, _mm512_mul_ps(_mm512_mul_ps(dct, gg), rnn_act_avx512_dsig(i)));
    rnn_act_avx512_st(m, dg + U + u,
                      _mm512_mul_ps(_mm512_mul_ps(dct, c_prev), rnn_act_avx512_dsig(f)));
    rnn_act_avx512_st(m, dg + 2 * U + u,
                      _mm512_mul_ps(_mm512_mul_ps(dct, i), rnn_act_avx512_dtanh(gg)));
    rnn_act_avx512_st(m, dg + 3 * U + u,
                      _mm512_mul_ps(_mm512_mul_ps(dht, ac), rnn_act_avx512_dsig(o)));
    rnn_act_avx512_st(m, dc + u, _mm512_mul_ps(dct, f));
    rnn_act_avx512_st(m, dh + u, _mm512_setzero_ps());
  }
}

void rnn_act_avx512_gru_reset_after_grad_f32(const float* g, const float* hs, const float* rech,
                                             const float* dy, int64_t U, float* dh, float* dg,
                                             float* dr) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t u = 0; u < U; u += 16) {
    const __mmask16 m = rnn_act_avx512_lanes(U - u);
    const __m512 z = rnn_act_avx512_ld(m, g + u), r = rnn_act_avx512_ld(m, g + U + u);
    const __m512 hh = rnn_act_avx512_ld(m, g + 2 * U + u);
    const __m512 dht = rnn_act_avx512_dht(m, dh + u, dy ? dy + u : nullptr);
    const __m512 dph = _mm512_mul_ps(_mm512_mul_ps(dht, _mm512_sub_ps(one, z)), rnn_act_avx512_dtanh(hh));
    const __m512 dpz = _mm512_mul_ps(
        _mm512_mul_ps(dht, _mm512_sub_ps(rnn_act_avx512_ld(m, hs + u), hh)), rnn_act_avx512_dsig(z));
    const __m512 dpr = _mm512_mul_ps(_mm512_mul_ps(dph, rnn_act_avx512_ld(m, rech + u)),
                                     rnn_act_avx512_dsig(r));
    rnn_act_avx512_st(m, dg + u, dpz);
    rnn_act_avx512_st(m, dr + u, dpz);
    rnn_act_avx512_st(m, dg + U + u, dpr);
    rnn_act_avx512_st(m, dr + U + u, dpr);
    rnn_act_avx512_st(m, dg + 2 * U + u, dph);
    rnn_act_avx512_st(m, dr + 2 * U + u, _mm512_mul_ps(dph, r));
    rnn_act_avx512_st(m, dh + u, _mm512_mul_ps(dht, z));
  }
}

void rnn_act_avx512_gru_reset_before_zh_grad_f32(const float* g, const float* hs,
                                                 const float* dy, int64_t U, float* dh,
                                                 float* dg) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t u = 0; u < U; u += 16) {
    const __mmask16 m = rnn_act_avx512_lanes(U - u);
    const __m512 z = rnn_act_avx512_ld(m, g + u), hh = rnn_act_avx512_ld(m, g + 2 * U + u);
    const __m512 dht = rnn_act_avx512_dht(m, dh + u, dy ? dy + u : nullptr);
    rnn_act_avx512_st(m, dg + 2 * U + u,
                      _mm512_mul_ps(_mm512_mul_ps(dht, _mm512_sub_ps(one, z)), rnn_act_avx512_dtanh(hh)));
    rnn_act_avx512_st(m, dg + u,
                      _mm512_mul_ps(_mm512_mul_ps(dht, _mm512_sub_ps(rnn_act_avx512_ld(m, hs + u), hh)),
                                    rnn_act_avx512_dsig(z)));
    rnn_act_avx512_st(m, dh + u, _mm512_mul_ps(dht, z));
  }
}

void rnn_act_avx512_gru_reset_before_r_grad_f32(const float* g, const float* hd, float* drh,
                                                int64_t U, float* dh, float* dg) {
  for (int64_t u = 0; u < U; u += 16) {
    const __mmask16 m = rnn_act_avx512_lanes(U - u);
    const __m512 r = rnn_act_avx512_ld(m, g + U + u), d = rnn_act_avx512_ld(m, drh + u);
    rnn_act_avx512_st(m, dg + U + u, _mm512_mul_ps(_mm512_mul_ps(d, rnn_act_avx512_ld(m, hd + u)),
                                                   rnn_act_avx512_dsig(r)));
    if (dh)
      rnn_act_avx512_st(m, dh + u, _mm512_add_ps(rnn_act_avx512_ld(m, dh + u), _mm512_mul_ps(d, r)));
    else
      rnn_act_avx512_st(m, drh + u, _mm512_mul_ps(d, r));
  }
}

void rnn_act_avx512_simple_rnn_grad_f32(const float* g, const float* dy, int64_t U, float* dh,
                                        float* dg) {
  for (int64_t u = 0; u < U; u += 16) {
    const __mmask16 m = rnn_act_avx512_lanes(U - u);
    const __m512 dht = rnn_act_avx512_dht(m, dh + u, dy ? dy + u : nullptr);
    rnn_act_avx512_st(m, dg + u, _mm512_mul_ps(dht, rnn_act_avx512_dtanh(rnn_act_avx512_ld(m, g + u))));
    rnn_act_avx512_st(m, dh + u, _mm512_setzero_ps());
  }
}

void rnn_act_avx512_sigmoid_f32(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = rnn_act_avx512_lanes(n - i);
    rnn_act_avx512_st(m, y + i, rnn_act_avx512_sigmoid_vec(rnn_act_avx512_ld(m, x + i)));
  }
}

void rnn_act_avx512_tanh_f32(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = rnn_act_avx512_lanes(n - i);
    rnn_act_avx512_st(m, y + i, rnn_act_avx512_tanh_vec(rnn_act_avx512_ld(m, x + i)));
  }
}

}  // namespace gf

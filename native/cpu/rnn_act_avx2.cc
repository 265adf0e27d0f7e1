// AVX2+FMA float sigmoid / tanh spans and backward gate-gradient rows for the recurrent gate
// passes (see rnn_act.h); the same algorithms as rnn_act_avx512.cc on 8 lanes.
// Compiled with -mavx2 -mfma; called only when cpu_features reports both (rnn_act.cc). Every
// helper has internal linkage and an avx2 name, and this file includes no header with inline
// code, so no AVX code can be folded into a baseline function. Not here: the choice of version.
// fp-contract=off: GCC (GNU C++ mode) would otherwise fuse a multiply and an add written as
// two intrinsics into one FMA; the gradient rows must round as the scalar loops do (the
// activations' FMAs are explicit _mm256_fmadd_ps and stay).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <immintrin.h>

#include "cpu/rnn_act.h"

namespace gf {
namespace {

// exp(a) for a <= 0 (NaN gives garbage the callers replace); see rnn_act_avx512.cc.
inline __m256 rnn_act_avx2_exp_nonpos(__m256 a) {
  a = _mm256_max_ps(a, _mm256_set1_ps(-88.0f));
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(a, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), a);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 r2 = _mm256_mul_ps(r, r);
  p = _mm256_fmadd_ps(p, r2, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

inline __m256 rnn_act_avx2_abs(__m256 x) {
  return _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
}

inline __m256 rnn_act_avx2_sigmoid_vec(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = rnn_act_avx2_exp_nonpos(_mm256_sub_ps(_mm256_setzero_ps(), rnn_act_avx2_abs(x)));
  const __m256 nonneg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
  const __m256 num = _mm256_blendv_ps(e, one, nonneg);
  const __m256 y = _mm256_div_ps(num, _mm256_add_ps(one, e));
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

inline __m256 rnn_act_avx2_tanh_vec(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 ax = rnn_act_avx2_abs(x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), ax, ax);  // |tanh|, sign below
  const __m256 e = rnn_act_avx2_exp_nonpos(_mm256_mul_ps(ax, _mm256_set1_ps(-2.0f)));
  const __m256 t = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
  const __m256 sign = _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(int(0x80000000u))));
  const __m256 is_small = _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ);
  const __m256 y = _mm256_or_ps(_mm256_blendv_ps(t, small, is_small), sign);
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

inline __m256i rnn_act_avx2_tail_mask(int64_t rem) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rem)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Loads and stores of 8 lanes at an offset: all of them (Full), or the first `rem` (Tail, a
// masked access that touches nothing past the end).
struct rnn_act_avx2_full {
  __m256 ld(const float* p) const { return _mm256_loadu_ps(p); }
  void st(float* p, __m256 v) const { _mm256_storeu_ps(p, v); }
};
struct rnn_act_avx2_tail {
  __m256i m;
  __m256 ld(const float* p) const { return _mm256_maskload_ps(p, m); }
  void st(float* p, __m256 v) const { _mm256_maskstore_ps(p, m, v); }
};

inline __m256 rnn_act_avx2_dsig(__m256 y) {
  return _mm256_mul_ps(y, _mm256_sub_ps(_mm256_set1_ps(1.0f), y));
}
inline __m256 rnn_act_avx2_dtanh(__m256 y) {
  return _mm256_sub_ps(_mm256_set1_ps(1.0f), _mm256_mul_ps(y, y));
}
// dh + dy (dy nullptr: dh + 0, as the scalar loop adds)
template <class Mem>
inline __m256 rnn_act_avx2_dht(const Mem& mem, const float* dh, const float* dy) {
  return _mm256_add_ps(mem.ld(dh), dy ? mem.ld(dy) : _mm256_setzero_ps());
}

// Each row function: the vector body at unit offset u through a Mem, for the full vectors and
// then the tail (rnn_grad.h's formulas, in its order).
template <class Body>
inline void rnn_act_avx2_rows(int64_t U, const Body& body) {
  int64_t u = 0;
  for (; u + 8 <= U; u += 8) body(u, rnn_act_avx2_full{});
  if (u < U) body(u, rnn_act_avx2_tail{rnn_act_avx2_tail_mask(U - u)});
}

}  // namespace

void rnn_act_avx2_lstm_grad_f32(const float* g, const float* cp, const float* dy, int64_t U,
                                float* dh, float* dc, float* dg) {
  rnn_act_avx2_rows(U, [&](int64_t u, const auto& mem) {
    const __m256 i = mem.ld(g + u), f = mem.ld(g + U + u);
    const __m256 gg = mem.ld(g + 2 * U + u), o = mem.ld(g + 3 * U + u);
    const __m256 c_prev = mem.ld(cp + u);
    const __m256 ac = rnn_act_avx2_tanh_vec(_mm256_add_ps(_mm256_mul_ps(f, c_prev), _mm256_mul_ps(i, gg)));
    const __m256 dht = rnn_act_avx2_dht(mem, dh + u, dy ? dy + u : nullptr);
    const __m256 dct = _mm256_add_ps(mem.ld(dc + u), _mm256_mul_ps(_mm256_mul_ps(dht, o), rnn_act_avx2_dtanh(ac)));
    mem.st(dg + u, _mm256_mul_ps(_mm256_mul_ps(dct, gg), rnn_act_avx2_dsig(i)));
    mem.st(dg + U + u, _mm256_mul_ps(_mm256_mul_ps(dct, c_prev), rnn_act_avx2_dsig(f)));
    mem.st(dg + 2 * U + u, _mm256_mul_ps(_mm256_mul_ps(dct, i), rnn_act_avx2_dtanh(gg)));
    mem.st(dg + 3 * U + u, _mm256_mul_ps(_mm256_mul_ps(dht, ac), rnn_act_avx2_dsig(o)));
    mem.st(dc + u, _mm256_mul_ps(dct, f));
    mem.st(dh + u, _mm256_setzero_ps());
  });
}

void rnn_act_avx2_gru_reset_after_grad_f32(const float* g, const float* hs, const float* rech,
                                           const float* dy, int64_t U, float* dh, float* dg,
                                           float* dr) {
  rnn_act_avx2_rows(U, [&](int64_t u, const auto& mem) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 z = mem.ld(g + u), r = mem.ld(g + U + u), hh = mem.ld(g + 2 * U + u);
    const __m256 dht = rnn_act_avx2_dht(mem, dh + u, dy ? dy + u : nullptr);
    const __m256 dph = _mm256_mul_ps(_mm256_mul_ps(dht, _mm256_sub_ps(one, z)), rnn_act_avx2_dtanh(hh));
    const __m256 dpz = _mm256_mul_ps(_mm256_mul_ps(dht, _mm256_sub_ps(mem.ld(hs + u), hh)), rnn_act_avx2_dsig(z));
    const __m256 dpr = _mm256_mul_ps(_mm256_mul_ps(dph, mem.ld(rech + u)), rnn_act_avx2_dsig(r));
    mem.st(dg + u, dpz);
    mem.st(dr + u, dpz);
    mem.st(dg + U + u, dpr);
    mem.st(dr + U + u, dpr);
    mem.st(dg + 2 * U + u, dph);
    mem.st(dr + 2 * U + u, _mm256_mul_ps(dph, r));
    mem.st(dh + u, _mm256_mul_ps(dht, z));
  });
}

void rnn_act_avx2_gru_reset_before_zh_grad_f32(const float* g, const float* hs, const float* dy,
                                               int64_t U, float* dh, float* dg) {
  rnn_act_avx2_rows(U, [&](int64_t u, const auto& mem) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 z = mem.ld(g + u), hh = mem.ld(g + 2 * U + u);
    const __m256 dht = rnn_act_avx2_dht(mem, dh + u, dy ? dy + u : nullptr);
    mem.st(dg + 2 * U + u, _mm256_mul_ps(_mm256_mul_ps(dht, _mm256_sub_ps(one, z)), rnn_act_avx2_dtanh(hh)));
    mem.st(dg + u, _mm256_mul_ps(_mm256_mul_ps(dht, _mm256_sub_ps(mem.ld(hs + u), hh)), rnn_act_avx2_dsig(z)));
    mem.st(dh + u, _mm256_mul_ps(dht, z));
  });
}

void rnn_act_avx2_gru_reset_before_r_grad_f32(const float* g, const float* hd, float* drh,
                                              int64_t U, float* dh, float* dg) {
  rnn_act_avx2_rows(U, [&](int64_t u, const auto& mem) {
    const __m256 r = mem.ld(g + U + u), d = mem.ld(drh + u);
    mem.st(dg + U + u, _mm256_mul_ps(_mm256_mul_ps(d, mem.ld(hd + u)), rnn_act_avx2_dsig(r)));
    if (dh)
      mem.st(dh + u, _mm256_add_ps(mem.ld(dh + u), _mm256_mul_ps(d, r)));
    else
      mem.st(drh + u, _mm256_mul_ps(d, r));
  });
}

void rnn_act_avx2_simple_rnn_grad_f32(const float* g, const float* dy, int64_t U, float* dh,
                                      float* dg) {
  rnn_act_avx2_rows(U, [&](int64_t u, const auto& mem) {
    const __m256 dht = rnn_act_avx2_dht(mem, dh + u, dy ? dy + u : nullptr);
    mem.st(dg + u, _mm256_mul_ps(dht, rnn_act_avx2_dtanh(mem.ld(g + u))));
    mem.st(dh + u, _mm256_setzero_ps());
  });
}

void rnn_act_avx2_sigmoid_f32(const float* x, float* y, int64_t n) {
  rnn_act_avx2_rows(n, [&](int64_t i, const auto& mem) {
    mem.st(y + i, rnn_act_avx2_sigmoid_vec(mem.ld(x + i)));
  });
}

void rnn_act_avx2_tanh_f32(const float* x, float* y, int64_t n) {
  rnn_act_avx2_rows(n, [&](int64_t i, const auto& mem) {
    mem.st(y + i, rnn_act_avx2_tanh_vec(mem.ld(x + i)));
  });
}

}  // namespace gf

// The backward gate pass of one batch row for the Keras default activations (activation tanh,
// recurrent_activation sigmoid), written once as plain loops: rnn.cc runs them for double and
// for the baseline ISA, rnn_act.cc hands them out as the scalar float versions, and the AVX2 /
// AVX-512 versions (rnn_act_avx2.cc, rnn_act_avx512.cc) do the same arithmetic in the same
// order, unfused, so that every version gives the same bits (test_rnn_act checks it).
// It is not: the generic passes for other activations (rnn.cc), or anything with vector code
// (this header is inline code, so the AVX files must not include it).
//
// Per row, U units; dy the row of the output gradient added to dh (nullptr: none); dh in: the
// gradient of h_t, out: what flows to h_{t-1} outside the recurrent GEMM. Gates g hold the
// post-activation values saved by the forward. dg may be g itself (rnn.cc writes the gradients
// over the gates): every gate of unit u is read before any gradient of unit u is written, so
// g and dg are not __restrict. Derivatives from the outputs: tanh' = 1 - y*y, sigmoid' =
// y * (1 - y).
#pragma once
#include <cmath>
#include <cstdint>

namespace gf {
namespace rnn_grad {

template <typename T>
inline T dy_at(const T* dy, int64_t u) {
  return dy ? dy[u] : T(0);
}

// LSTM: g = (i, f, gg, o) (4U), cp = c_{t-1}; c_t = f*cp + i*gg is recomputed (as the forward
// computed it) and act(c_t) with it. Writes dg (4U) = the pre-activation gradients, dc = dc_t
// * f (to c_{t-1}), dh = 0 (h_{t-1} is reached only through the GEMM).
template <typename T>
void lstm(const T* g, const T* __restrict cp, const T* __restrict dy, int64_t U,
          T* __restrict dh, T* __restrict dc, T* dg) {
  for (int64_t u = 0; u < U; ++u) {
    const T i = g[u], f = g[U + u], gg = g[2 * U + u], o = g[3 * U + u];
    const T ac = std::tanh(f * cp[u] + i * gg);
    const T dht = dh[u] + dy_at(dy, u);
    const T dct = dc[u] + dht * o * (T(1) - ac * ac);
    dg[u] = dct * gg * (i * (T(1) - i));
    dg[U + u] = dct * cp[u] * (f * (T(1) - f));
    dg[2 * U + u] = dct * i * (T(1) - gg * gg);
    dg[3 * U + u] = dht * ac * (o * (T(1) - o));
    dc[u] = dct * f;
    dh[u] = T(0);
  }
}

// GRU reset_after: g = (z, r, hh), hs = the undropped h_{t-1}, rech = hd R_h + b_rec_h. Writes
// dg (3U, input side: z, r, h~ pre-activations), dr (3U, recurrent side: z, r, and r * dh~),
// dh = dh_t * z (the state mix's direct path).
template <typename T>
void gru_reset_after(const T* g, const T* __restrict hs, const T* __restrict rech,
                     const T* __restrict dy, int64_t U, T* __restrict dh, T* dg,
                     T* __restrict dr) {
  for (int64_t u = 0; u < U; ++u) {
    const T z = g[u], r = g[U + u], hh = g[2 * U + u];
    const T dht = dh[u] + dy_at(dy, u);
    const T dph = dht * (T(1) - z) * (T(1) - hh * hh);
    const T dpz = dht * (hs[u] - hh) * (z * (T(1) - z));
    const T dpr = dph * rech[u] * (r * (T(1) - r));
    dg[u] = dr[u] = dpz;
    dg[U + u] = dr[U + u] = dpr;
    dg[2 * U + u] = dph;
    dr[2 * U + u] = dph * r;
    dh[u] = dht * z;
  }
}

// GRU reset_before, first half: dg's z and h~ slots, dh = dh_t * z. (r's slot needs d(r*hd),
// which the GEMM with R_h^T gives; then gru_reset_before_r.)
template <typename T>
void gru_reset_before_zh(const T* g, const T* __restrict hs, const T* __restrict dy,
                         int64_t U, T* __restrict dh, T* dg) {
  for (int64_t u = 0; u < U; ++u) {
    const T z = g[u], hh = g[2 * U + u];
    const T dht = dh[u] + dy_at(dy, u);
    dg[2 * U + u] = dht * (T(1) - z) * (T(1) - hh * hh);
    dg[u] = dht * (hs[u] - hh) * (z * (T(1) - z));
    dh[u] = dht * z;
  }
}

// GRU reset_before, second half: drh = d(r*hd) in; dg's r slot = drh * hd * r'; the gradient of
// hd through r*hd, drh * r, is added to dh, or (dh nullptr: with a recurrent mask, which must
// scale it first) left in drh.
template <typename T>
void gru_reset_before_r(const T* g, const T* __restrict hd, T* __restrict drh,
                        int64_t U, T* __restrict dh, T* dg) {
  for (int64_t u = 0; u < U; ++u) {
    const T r = g[U + u], d = drh[u];
    dg[U + u] = d * hd[u] * (r * (T(1) - r));
    if (dh) dh[u] += d * r; else drh[u] = d * r;
  }
}

// SimpleRNN (tanh): dg = dh_t * (1 - h_t^2), dh = 0.
template <typename T>
void simple_rnn(const T* g, const T* __restrict dy, int64_t U, T* __restrict dh, T* dg) {
  for (int64_t u = 0; u < U; ++u) {
    const T y = g[u];
    dg[u] = (dh[u] + dy_at(dy, u)) * (T(1) - y * y);
    dh[u] = T(0);
  }
}

}  // namespace rnn_grad
}  // namespace gf

// SimpleRNN, LSTM and GRU on the CPU: the input projection of all timesteps as one GEMM, one
// recurrent GEMM per step straight into that step's gate rows, and one fused per-row pass for
// the gate math; backward through time mirrors it, with the weight gradients as GEMMs over all
// timesteps at the end. See rnn.h for the contract. It is not: a cuDNN-style persistent kernel
// or a fused multi-step micro-kernel (gemm.h is the only matrix-product entry).
//
// Every per-timestep buffer is laid out (N, T, ...) by INPUT time t, like x, so that the rows
// of step t are a strided slice (leading dimension T * width) that the GEMMs read and write in
// place, and the all-timestep GEMMs (dW = x^T dG, dR = Hprev^T dG, dx = dG W^T) see plain
// (N*T, width) matrices. Only y and dy are indexed by processing step s.
#include "cpu/rnn.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu/gemm.h"
#include "cpu/reduce.h"
#include "cpu/rnn_act.h"
#include "cpu/rnn_grad.h"
#include "cpu/scratch.h"
#include "cpu/threadpool.h"

namespace gf {
namespace {

// memcpy of n elements that allows n = 0 with null pointers (an empty typed array has none,
// and memcpy's pointers must not be null even for 0 bytes).
template <typename T>
inline void copy_elems(T* dst, const T* src, int64_t n) {
  if (n > 0) std::memcpy(dst, src, sizeof(T) * static_cast<size_t>(n));
}

// Offsets (in elements) of the workspace parts; the single source of truth for both sizes.
struct Layout {
  int64_t G, GU, M;
  // forward part: gates (M, GU) the post-activation gates of every step; hprev (M, U) what
  // each step multiplies R by, hd = h_{t-1} * rmask (h_{t-1} without rmask); aux (M, U):
  // LSTM c_{t-1}, GRU reset_after=false r*hd, GRU reset_after=true hd R_h + b_rec_h; hstate
  // (M, U) GRU only: the undropped h_{t-1} of its state mix, written only with an rmask
  // (without one it is hprev); hcur, ccur (N, U) the running state; rec (N, GU) one step's
  // hd R + b_rec (GRU reset_after=true).
  int64_t gates, hprev, aux, hstate, hcur, ccur, rec, fwd_end;
  // backward: dgates (M, GU) gradient of the input-side pre-activations, written over gates
  // (step t's gates are read only by step t's gate pass, which reads each unit's gates before
  // it writes their gradients); then scratch: drec (M, GU) the gradient of the recurrent-side
  // ones (GRU reset_after=true; otherwise the same as dgates); dh, dc (N, U) running state
  // gradients; drh (N, U, GRU) the gradient of r*hd (reset_after=false), or of hd (with an
  // rmask), before rmask scales it into dh; dbn, dbn_rec (N, GU) per batch row, the sums over
  // the steps of dgates and drec (reset_after), which db adds up at the end.
  int64_t dgates, drec, dh, dc, drh, dbn, dbn_rec, end;
};

Layout layout(const RnnConfig& c) {
  Layout L;
  const bool lstm = c.cell == RnnCell::LSTM, gru = c.cell == RnnCell::GRU;
  const bool ra = gru && c.reset_after;
  L.G = rnn_gates(c.cell);
  L.GU = L.G * c.U;
  L.M = c.N * c.T;
  const int64_t MU = L.M * c.U, NU = c.N * c.U;
  int64_t o = 0;
  L.gates = o; o += L.M * L.GU;
  L.hprev = o; o += MU;
  L.aux = o; if (lstm || gru) o += MU;
  L.hstate = o; if (gru) o += MU;
  L.hcur = o; o += NU;
  L.ccur = o; if (lstm) o += NU;
  L.rec = o; if (ra) o += c.N * L.GU;
  L.fwd_end = o;
  L.dgates = L.gates;
  L.drec = L.dgates;
  if (ra) { L.drec = o; o += L.M * L.GU; }
  L.dh = o; o += NU;
  L.dc = o; if (lstm) o += NU;
  L.drh = o; if (gru) o += NU;
  L.dbn = o; o += c.N * L.GU;
  L.dbn_rec = o; if (ra) o += c.N * L.GU;
  L.end = o;
  return L;
}

// The derivative, from the activation's OUTPUT y (every supported activation allows it).
template <typename T>
inline T act_grad(RnnActivation a, T y) {
  switch (a) {
    case RnnActivation::Tanh: return T(1) - y * y;
    case RnnActivation::Sigmoid: return y * (T(1) - y);
    case RnnActivation::HardSigmoid: return (y > T(0) && y < T(1)) ? T(1) / T(6) : T(0);
    case RnnActivation::HardSigmoidLegacy: return (y > T(0) && y < T(1)) ? T(0.2) : T(0);
    case RnnActivation::Relu: return y > T(0) ? T(1) : T(0);
    case RnnActivation::Linear: return T(1);
  }
  return T(1);
}

// In place over a contiguous run; the switch is outside the loop so each loop vectorizes as
// far as its function allows.
template <typename T>
void act_span(RnnActivation a, T* v, int64_t n) {
  switch (a) {
    case RnnActivation::Tanh:
      for (int64_t i = 0; i < n; ++i) v[i] = std::tanh(v[i]);
      return;
    case RnnActivation::Sigmoid:
      for (int64_t i = 0; i < n; ++i) v[i] = T(1) / (T(1) + std::exp(-v[i]));
      return;
    case RnnActivation::HardSigmoid:
      for (int64_t i = 0; i < n; ++i) v[i] = std::min(T(1), std::max(T(0), v[i] / T(6) + T(0.5)));
      return;
    case RnnActivation::HardSigmoidLegacy:
      for (int64_t i = 0; i < n; ++i)
        v[i] = std::min(T(1), std::max(T(0), T(0.2) * v[i] + T(0.5)));
      return;
    case RnnActivation::Relu:
      for (int64_t i = 0; i < n; ++i) v[i] = v[i] > T(0) ? v[i] : T(0);
      return;
    case RnnActivation::Linear: return;
  }
}

// float: sigmoid and tanh through the vectorized spans of rnn_act.h (a non-template overload,
// so every act_span call on float picks it); the others as above.
void act_span(RnnActivation a, float* v, int64_t n) {
  switch (a) {
    case RnnActivation::Tanh: tanh_span_f32(v, v, n); return;
    case RnnActivation::Sigmoid: sigmoid_span_f32(v, v, n); return;
    default: act_span<float>(a, v, n); return;
  }
}

// Fused passes split batch rows; `work` is roughly the flops of one pass.
void for_rows(AdaptiveParallel& site, int64_t N, int64_t width, RangeFn fn) {
  parallel_for(site, double(N) * double(width) * 8.0, N, 1, fn);
}

// The backward rows for the default activations (rnn_grad.h): the ISA's vector versions for
// float, the plain loops for double.
template <typename T>
struct GradRows {
  void (*lstm)(const T*, const T*, const T*, int64_t, T*, T*, T*);
  void (*gru_reset_after)(const T*, const T*, const T*, const T*, int64_t, T*, T*, T*);
  void (*gru_reset_before_zh)(const T*, const T*, const T*, int64_t, T*, T*);
  void (*gru_reset_before_r)(const T*, const T*, T*, int64_t, T*, T*);
  void (*simple_rnn)(const T*, const T*, int64_t, T*, T*);
};

GradRows<float> grad_rows(float) {
  const RnnGradRowsF32 r = rnn_grad_rows_f32();
  return {r.lstm, r.gru_reset_after, r.gru_reset_before_zh, r.gru_reset_before_r, r.simple_rnn};
}

GradRows<double> grad_rows(double) {
  return {rnn_grad::lstm<double>, rnn_grad::gru_reset_after<double>,
          rnn_grad::gru_reset_before_zh<double>, rnn_grad::gru_reset_before_r<double>,
          rnn_grad::simple_rnn<double>};
}

// out (cols, rows) = a (rows, cols)^T, in 32 x 32 tiles so both sides stream through L1.
template <typename T>
void transpose(const T* a, int64_t rows, int64_t cols, T* out) {
  constexpr int64_t B = 32;
  for (int64_t i0 = 0; i0 < rows; i0 += B)
    for (int64_t j0 = 0; j0 < cols; j0 += B) {
      const int64_t i1 = std::min(rows, i0 + B), j1 = std::min(cols, j0 + B);
      for (int64_t j = j0; j < j1; ++j)
        for (int64_t i = i0; i < i1; ++i) out[j * rows + i] = a[i * cols + j];
    }
}

// The backward's R^T, per calling thread, and one row's act(c_t) for the general LSTM loop,
// per pool thread (each grows once and is reused by every later call).
thread_local ScratchBuffer tl_rt;
thread_local ScratchBuffer tl_acs;

// y row of a masked step: zeros, or the carried state h (Keras 3's states[0]).
template <typename T>
inline void masked_output(const RnnConfig& c, const T* h, int64_t U, T* yr) {
  if (c.zero_output_for_mask)
    std::fill(yr, yr + U, T(0));
  else
    copy_elems(yr, h, U);
}

}  // namespace

int64_t rnn_forward_workspace_size(const RnnConfig& cfg) { return layout(cfg).fwd_end; }
int64_t rnn_workspace_size(const RnnConfig& cfg) { return layout(cfg).end; }

template <typename T>
void rnn_forward(const RnnConfig& cfg, const T* x, const T* W, const T* R, const T* b,
                 const T* h0, const T* c0, const uint8_t* mask, const T* rmask, T* y, T* hT,
                 T* cT, T* workspace) {
  const Layout L = layout(cfg);
  const int64_t N = cfg.N, Tn = cfg.T, In = cfg.In, U = cfg.U, GU = L.GU, M = L.M;
  const bool lstm = cfg.cell == RnnCell::LSTM, gru = cfg.cell == RnnCell::GRU;
  const bool ra = gru && cfg.reset_after;
  const RnnActivation act = cfg.activation, rac = cfg.recurrent_activation;
  T* gates = workspace + L.gates;
  T* hprev = workspace + L.hprev;
  T* aux = workspace + L.aux;
  T* hstate = workspace + L.hstate;
  T* hcur = workspace + L.hcur;
  T* ccur = workspace + L.ccur;
  T* rec = workspace + L.rec;

  if (h0) copy_elems(hcur, h0, N * U); else std::fill(hcur, hcur + N * U, T(0));
  if (lstm) {
    if (c0) copy_elems(ccur, c0, N * U); else std::fill(ccur, ccur + N * U, T(0));
  }
  if (M > 0) {
    // gates (N*T, GU) = x (N*T, In) W (In, GU) + b (the input bias for reset_after)
    GemmEpilogue<T> ep;
    ep.bias = b;
    gemm<T>(false, false, M, GU, In, T(1), x, In, W, GU, T(0), gates, GU, ep);
  }
  GemmEpilogue<T> ep_rec;
  ep_rec.bias = (ra && b) ? b + GU : nullptr;
  const int64_t ldg = Tn * GU, ldh = Tn * U;
  static AdaptiveParallel site_a, site_b;

  for (int64_t s = 0; s < Tn && N > 0; ++s) {
    const int64_t t = cfg.go_backwards ? Tn - 1 - s : s;
    T* g_t = gates + t * GU;   // row n at g_t + n * ldg
    T* hp_t = hprev + t * U;   // row n at hp_t + n * ldh
    T* aux_t = aux + t * U;
    for (int64_t n = 0; n < N; ++n) {
      const T* hc = hcur + n * U;
      T* hp = hp_t + n * ldh;
      if (rmask) {
        const T* m = rmask + n * U;
        for (int64_t u = 0; u < U; ++u) hp[u] = hc[u] * m[u];
        if (gru) copy_elems(hstate + t * U + n * ldh, hc, U);
      } else {
        copy_elems(hp, hc, U);
      }
      if (lstm) copy_elems(aux_t + n * ldh, ccur + n * U, U);
    }
    auto keep = [&](int64_t n) { return !mask || mask[n * Tn + t] != 0; };
    auto yrow = [&](int64_t n) { return y + (n * Tn + s) * U; };

    if (cfg.cell == RnnCell::SimpleRNN || lstm) {
      // g_t (N, GU) += h_{t-1} (N, U) R (U, GU)
      gemm<T>(false, false, N, GU, U, T(1), hp_t, ldh, R, GU, T(1), g_t, ldg);
      for_rows(site_a, N, GU, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
          T* g = g_t + n * ldg;
          T* hc = hcur + n * U;
          T* yr = yrow(n);
          if (!keep(n)) { masked_output(cfg, hc, U, yr); continue; }
          if (!lstm) {
            act_span(act, g, U);
            copy_elems(hc, g, U);
            copy_elems(yr, g, U);
            continue;
          }
          const T* cp = aux_t + n * ldh;
          T* cc = ccur + n * U;
          act_span(rac, g, 2 * U);          // i, f
          act_span(act, g + 2 * U, U);      // g
          act_span(rac, g + 3 * U, U);      // o
          for (int64_t u = 0; u < U; ++u) hc[u] = cc[u] = g[U + u] * cp[u] + g[u] * g[2 * U + u];
          act_span(act, hc, U);
          for (int64_t u = 0; u < U; ++u) yr[u] = hc[u] = g[3 * U + u] * hc[u];
        }
      });
    } else if (!ra) {
      // z, r: g_t[:, 0:2U] += h R[:, 0:2U]; then r*h; then g_t[:, 2U:] += (r*h) R_h.
      gemm<T>(false, false, N, 2 * U, U, T(1), hp_t, ldh, R, GU, T(1), g_t, ldg);
      for_rows(site_a, N, 2 * U, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
          T* g = g_t + n * ldg;
          const T* hp = hp_t + n * ldh;
          T* rh = aux_t + n * ldh;
          act_span(rac, g, 2 * U);  // masked rows too: backward reads r*h of every row
          for (int64_t u = 0; u < U; ++u) rh[u] = g[U + u] * hp[u];
        }
      });
      gemm<T>(false, false, N, U, U, T(1), aux_t, ldh, R + 2 * U, GU, T(1), g_t + 2 * U, ldg);
      for_rows(site_b, N, U, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
          T* g = g_t + n * ldg;
          T* hc = hcur + n * U;  // the undropped h_{t-1}, read before it is overwritten
          T* yr = yrow(n);
          if (!keep(n)) { masked_output(cfg, hc, U, yr); continue; }
          act_span(act, g + 2 * U, U);
          for (int64_t u = 0; u < U; ++u) {
            const T z = g[u];
            yr[u] = hc[u] = z * hc[u] + (T(1) - z) * g[2 * U + u];
          }
        }
      });
    } else {
      // rec (N, GU) = h R + b_rec; z, r pre += rec; h~ pre += r * rec_h.
      gemm<T>(false, false, N, GU, U, T(1), hp_t, ldh, R, GU, T(0), rec, GU, ep_rec);
      for_rows(site_a, N, GU, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
          T* g = g_t + n * ldg;
          const T* rc = rec + n * GU;
          T* rech = aux_t + n * ldh;
          T* hc = hcur + n * U;  // the undropped h_{t-1}, read before it is overwritten
          T* yr = yrow(n);
          copy_elems(rech, rc + 2 * U, U);
          if (!keep(n)) { masked_output(cfg, hc, U, yr); continue; }
          for (int64_t j = 0; j < 2 * U; ++j) g[j] += rc[j];
          act_span(rac, g, 2 * U);
          for (int64_t u = 0; u < U; ++u) g[2 * U + u] += g[U + u] * rc[2 * U + u];
          act_span(act, g + 2 * U, U);
          for (int64_t u = 0; u < U; ++u) {
            const T z = g[u];
            yr[u] = hc[u] = z * hc[u] + (T(1) - z) * g[2 * U + u];
          }
        }
      });
    }
  }
  if (hT) copy_elems(hT, hcur, N * U);
  if (lstm && cT) copy_elems(cT, ccur, N * U);
}

template <typename T>
void rnn_backward(const RnnConfig& cfg, const T* x, const T* W, const T* R,
                  const uint8_t* mask, const T* rmask, const T* dy, const T* dhT, const T* dcT,
                  T* workspace, T* dx, T* dh0, T* dc0, T* dW, T* dR, T* db) {
  const Layout L = layout(cfg);
  const int64_t N = cfg.N, Tn = cfg.T, In = cfg.In, U = cfg.U, GU = L.GU, M = L.M;
  const bool lstm = cfg.cell == RnnCell::LSTM, gru = cfg.cell == RnnCell::GRU;
  const bool ra = gru && cfg.reset_after;
  const RnnActivation act = cfg.activation, rac = cfg.recurrent_activation;
  // the Keras defaults have vectorized rows (rnn_grad.h, rnn_act.h); others the loops below
  const bool dflt = act == RnnActivation::Tanh && (cfg.cell == RnnCell::SimpleRNN ||
                                                   rac == RnnActivation::Sigmoid);
  const GradRows<T> rows = grad_rows(T(0));
  const T* gates = workspace + L.gates;
  const T* hprev = workspace + L.hprev;
  const T* aux = workspace + L.aux;
  // GRU's state mix reads the undropped h_{t-1}: hstate with an rmask, else hprev itself
  const T* hstate = (gru && rmask) ? workspace + L.hstate : hprev;
  T* dgates = workspace + L.dgates;  // == gates: each step's gradients replace its gates
  T* drec = workspace + L.drec;
  T* dh = workspace + L.dh;
  T* dc = workspace + L.dc;
  T* drh = workspace + L.drh;
  T* dbn = workspace + L.dbn;
  T* dbn_rec = workspace + L.dbn_rec;
  const int64_t NU = N * U;
  if (db) {
    std::fill(dbn, dbn + N * GU, T(0));
    if (ra) std::fill(dbn_rec, dbn_rec + N * GU, T(0));
  }
  // db's share of row n at this step: its (kept) gate gradients, while they are in cache
  auto add_db = [&](int64_t n, const T* dg, const T* dr) {
    if (!db) return;
    T* a = dbn + n * GU;
    for (int64_t k = 0; k < GU; ++k) a[k] += dg[k];
    if (dr) {
      T* b = dbn_rec + n * GU;
      for (int64_t k = 0; k < GU; ++k) b[k] += dr[k];
    }
  };

  if (dhT) copy_elems(dh, dhT, NU); else std::fill(dh, dh + NU, T(0));
  if (lstm) {
    if (dcT) copy_elems(dc, dcT, NU); else std::fill(dc, dc + NU, T(0));
  }
  const int64_t ldg = Tn * GU, ldh = Tn * U;
  // R^T (GU, U), made once: the per-step products with R^T then read it untransposed, which
  // the GEMM packs with row copies instead of a strided gather every step.
  T* RT = nullptr;
  if (N > 0 && Tn > 0) {
    RT = static_cast<T*>(tl_rt.get(sizeof(T) * static_cast<size_t>(GU * U)));
    transpose(R, U, GU, RT);
  }
  static AdaptiveParallel site_a, site_b;

  for (int64_t s = Tn - 1; s >= 0 && N > 0; --s) {
    const int64_t t = cfg.go_backwards ? Tn - 1 - s : s;
    const T* g_t = gates + t * GU;
    const T* hp_t = hprev + t * U;
    const T* hs_t = hstate + t * U;
    const T* aux_t = aux + t * U;
    T* dg_t = dgates + t * GU;
    T* dr_t = drec + t * GU;
    auto dy_row = [&](int64_t n) -> const T* { return dy ? dy + (n * Tn + s) * U : nullptr; };
    // Whether step s of row n is kept. A masked step carried the state, and y[n, s] was the
    // carried h or zeros: dh[n] passes on unchanged plus, unless zero_output_for_mask,
    // dy[n, s]; its gate gradients are zero.
    auto kept = [&](int64_t n) {
      if (!mask || mask[n * Tn + t] != 0) return true;
      const T* d = dy_row(n);
      if (d && !cfg.zero_output_for_mask) {
        T* dhr = dh + n * U;
        for (int64_t u = 0; u < U; ++u) dhr[u] += d[u];
      }
      std::fill(dg_t + n * ldg, dg_t + n * ldg + GU, T(0));
      if (ra) std::fill(dr_t + n * ldg, dr_t + n * ldg + GU, T(0));
      return false;
    };
    // dh[n] += dy[n, s] (the general loops; the default rows add it themselves)
    auto add_dy = [&](int64_t n) {
      if (const T* d = dy_row(n)) {
        T* dhr = dh + n * U;
        for (int64_t u = 0; u < U; ++u) dhr[u] += d[u];
      }
    };

    if (cfg.cell == RnnCell::SimpleRNN || lstm) {
      for_rows(site_a, N, GU, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
          if (!kept(n)) continue;
          const T* g = g_t + n * ldg;
          T* dg = dg_t + n * ldg;  // the same row: gradients over gates
          T* dhr = dh + n * U;
          if (!lstm) {
            if (dflt) {
              rows.simple_rnn(g, dy_row(n), U, dhr, dg);
            } else {
              add_dy(n);
              for (int64_t u = 0; u < U; ++u) {
                dg[u] = dhr[u] * act_grad(act, g[u]);
                dhr[u] = T(0);
              }
            }
            add_db(n, dg, nullptr);
            continue;
          }
          const T* cp = aux_t + n * ldh;
          T* dcr = dc + n * U;
          if (dflt) {
            rows.lstm(g, cp, dy_row(n), U, dhr, dcr, dg);
            add_db(n, dg, nullptr);
            continue;
          }
          add_dy(n);
          // act(c_t), recomputed as one span (as the forward computed it) in this thread's
          // scratch: dg's slots are the gates the loop still reads
          T* acs = static_cast<T*>(tl_acs.get(sizeof(T) * static_cast<size_t>(U)));
          for (int64_t u = 0; u < U; ++u) acs[u] = g[U + u] * cp[u] + g[u] * g[2 * U + u];
          act_span(act, acs, U);
          for (int64_t u = 0; u < U; ++u) {
            const T i = g[u], f = g[U + u], gg = g[2 * U + u], o = g[3 * U + u];
            const T ac = acs[u];
            const T dht = dhr[u];
            const T dct = dcr[u] + dht * o * act_grad(act, ac);
            dg[u] = dct * gg * act_grad(rac, i);
            dg[U + u] = dct * cp[u] * act_grad(rac, f);
            dg[2 * U + u] = dct * i * act_grad(act, gg);
            dg[3 * U + u] = dht * ac * act_grad(rac, o);
            dcr[u] = dct * f;
            dhr[u] = T(0);
          }
          add_db(n, dg, nullptr);
        }
      });
      // dh_{t-1} (N, U) += dG_t (N, GU) R^T: the gate pass zeroed dh's kept rows, so after
      // the GEMM they hold d(hd), which rmask scales into dh_{t-1}; a masked row's dG row is
      // zero and its dh row (the carried gradient) is left alone.
      gemm<T>(false, false, N, U, GU, T(1), dg_t, ldg, RT, U, T(1), dh, U);
      if (rmask) {
        for (int64_t n = 0; n < N; ++n) {
          if (mask && mask[n * Tn + t] == 0) continue;
          const T* m = rmask + n * U;
          T* dhr = dh + n * U;
          for (int64_t u = 0; u < U; ++u) dhr[u] *= m[u];
        }
      }
    } else if (!ra) {
      for_rows(site_a, N, GU, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
          if (!kept(n)) continue;
          const T* g = g_t + n * ldg;
          const T* hs = hs_t + n * ldh;  // the undropped h_{t-1}
          T* dg = dg_t + n * ldg;
          T* dhr = dh + n * U;
          if (dflt) { rows.gru_reset_before_zh(g, hs, dy_row(n), U, dhr, dg); continue; }
          add_dy(n);
          for (int64_t u = 0; u < U; ++u) {
            const T z = g[u], hh = g[2 * U + u];
            const T dht = dhr[u];
            dg[2 * U + u] = dht * (T(1) - z) * act_grad(act, hh);
            dg[u] = dht * (hs[u] - hh) * act_grad(rac, z);
            dhr[u] = dht * z;
          }
        }
      });
      // d(r*hd) (N, U) = dG_h (N, U) R_h^T (rows of masked steps are zero)
      gemm<T>(false, false, N, U, U, T(1), dg_t + 2 * U, ldg, RT + 2 * U * U, U, T(0), drh, U);
      // d(hd) through r*hd: straight into dh without an rmask, else kept in drh
      T* dh_direct = rmask ? nullptr : dh;
      for_rows(site_b, N, U, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
          const T* g = g_t + n * ldg;
          const T* hp = hp_t + n * ldh;  // hd
          T* d = drh + n * U;
          T* dg = dg_t + n * ldg;
          T* dhr = dh_direct ? dh_direct + n * U : nullptr;
          if (dflt) {
            rows.gru_reset_before_r(g, hp, d, U, dhr, dg);
          } else {
            for (int64_t u = 0; u < U; ++u) {
              const T r = g[U + u];
              dg[U + u] = d[u] * hp[u] * act_grad(rac, r);
              if (dhr) dhr[u] += d[u] * r; else d[u] *= r;
            }
          }
          if (!mask || mask[n * Tn + t] != 0) add_db(n, dg, nullptr);
        }
      });
      if (rmask) {
        // d(hd) (N, U) = drh + dG_zr R_zr^T; dh_{t-1} += rmask * d(hd)
        gemm<T>(false, false, N, U, 2 * U, T(1), dg_t, ldg, RT, U, T(1), drh, U);
        for (int64_t i = 0; i < NU; ++i) dh[i] += drh[i] * rmask[i];
      } else {
        gemm<T>(false, false, N, U, 2 * U, T(1), dg_t, ldg, RT, U, T(1), dh, U);
      }
    } else {
      for_rows(site_a, N, GU, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
          if (!kept(n)) continue;
          const T* g = g_t + n * ldg;
          const T* hp = hs_t + n * ldh;  // the undropped h_{t-1}
          const T* rech = aux_t + n * ldh;
          T* dg = dg_t + n * ldg;
          T* dr = dr_t + n * ldg;
          T* dhr = dh + n * U;
          if (dflt) {
            rows.gru_reset_after(g, hp, rech, dy_row(n), U, dhr, dg, dr);
            add_db(n, dg, dr);
            continue;
          }
          add_dy(n);
          for (int64_t u = 0; u < U; ++u) {
            const T z = g[u], r = g[U + u], hh = g[2 * U + u];
            const T dht = dhr[u];
            const T dph = dht * (T(1) - z) * act_grad(act, hh);
            const T dpz = dht * (hp[u] - hh) * act_grad(rac, z);
            const T dpr = dph * rech[u] * act_grad(rac, r);
            dg[u] = dr[u] = dpz;
            dg[U + u] = dr[U + u] = dpr;
            dg[2 * U + u] = dph;
            dr[2 * U + u] = dph * r;
            dhr[u] = dht * z;
          }
          add_db(n, dg, dr);
        }
      });
      if (rmask) {
        // d(hd) (N, U) = dRec R^T; dh_{t-1} += rmask * d(hd) (masked rows: d(hd) is zero)
        gemm<T>(false, false, N, U, GU, T(1), dr_t, ldg, RT, U, T(0), drh, U);
        for (int64_t i = 0; i < NU; ++i) dh[i] += drh[i] * rmask[i];
      } else {
        gemm<T>(false, false, N, U, GU, T(1), dr_t, ldg, RT, U, T(1), dh, U);
      }
    }
  }
  if (dh0) copy_elems(dh0, dh, NU);
  if (lstm && dc0) copy_elems(dc0, dc, NU);

  // Weight gradients over all timesteps. beta = 0 overwrites (and K = M = 0 gives zeros).
  // dx (M, In) = dG (M, GU) W^T;  dW (In, GU) = x^T dG;  dR (U, GU) = Hd^T dG_rec.
  if (dx && M > 0) gemm<T>(false, true, M, In, GU, T(1), dgates, GU, W, GU, T(0), dx, In);
  gemm<T>(true, false, In, GU, M, T(1), x, In, dgates, GU, T(0), dW, GU);
  if (gru && !ra) {
    gemm<T>(true, false, U, 2 * U, M, T(1), hprev, U, dgates, GU, T(0), dR, GU);
    gemm<T>(true, false, U, U, M, T(1), aux, U, dgates + 2 * U, GU, T(0), dR + 2 * U, GU);
  } else {
    gemm<T>(true, false, U, GU, M, T(1), hprev, U, drec, GU, T(0), dR, GU);
  }
  if (db) {
    if (M > 0) {
      reduce<T>(ReduceOp::Sum, dbn, 1, N, GU, db);
      if (ra) reduce<T>(ReduceOp::Sum, dbn_rec, 1, N, GU, db + GU);
    } else {
      std::fill(db, db + (ra ? 2 : 1) * GU, T(0));
    }
  }
}

#define GF_RNN_INSTANTIATE(T)                                                                \
  template void rnn_forward<T>(const RnnConfig&, const T*, const T*, const T*, const T*,     \
                               const T*, const T*, const uint8_t*, const T*, T*, T*, T*, T*); \
  template void rnn_backward<T>(const RnnConfig&, const T*, const T*, const T*,              \
                                const uint8_t*, const T*, const T*, const T*, const T*, T*,  \
                                T*, T*, T*, T*, T*, T*);
GF_RNN_INSTANTIATE(float)
GF_RNN_INSTANTIATE(double)

}  // namespace gf

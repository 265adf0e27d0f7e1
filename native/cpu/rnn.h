// Recurrent kernels: SimpleRNN, LSTM and GRU (reset_after true and false) over a whole
// sequence, forward and backward through time, Keras conventions and weight layouts.
// It is: the forward over all timesteps (one GEMM for the input projection of every step,
// one recurrent GEMM per step into that step's gate rows, one fused elementwise pass for the
// gate math that keeps what backward needs) and its exact backward (per step one fused
// gate-gradient pass and the GEMM for dh_{t-1}; the weight gradients as big GEMMs over all
// timesteps at the end). It is not: validation, defaults or policy (return_sequences, stateful,
// drawing dropout masks, unit_forget_bias, which activation is the default): lib and the
// binding decide those and pass explicit values; the kernels trust every size and pointer.
//
// ---- Binding contract -----------------------------------------------------------------------
// Shapes (row-major), G = gates per cell (SimpleRNN 1, LSTM 4, GRU 3), M = N * T:
//   x: (N, T, In)   h0, c0, hT, cT: (N, U)   y: (N, T, U)   mask: (N, T) uint8 or nullptr
//   rmask (recurrent dropout): (N, U) of T or nullptr
//   W (kernel): (In, G*U)   R (recurrent_kernel): (U, G*U)
//   b: (G*U), or for GRU with reset_after (2, G*U) = [input bias; recurrent bias]; or nullptr.
// Gate order as Keras: LSTM i, f, c (candidate g), o; GRU z, r, h.
//   SimpleRNN  h_t = act(x W + h R + b)
//   LSTM       i = ra(.), f = ra(.), g = act(.), o = ra(.)   (. = x W_k + h R_k + b_k)
//              c_t = f*c_{t-1} + i*g,  h_t = o*act(c_t)
//   GRU        z = ra(x W_z + h R_z + b_z), r likewise,
//              reset_after = false: h~ = act(x W_h + (r*h) R_h + b_h)
//              reset_after = true:  z = ra(x W_z + b_in_z + h R_z + b_rec_z), r likewise,
//                                   h~ = act(x W_h + b_in_h + r*(h R_h + b_rec_h))
//              h_t = z*h_{t-1} + (1-z)*h~
//   (act = activation, ra = recurrent_activation, h = h_{t-1}.)
// h0 / c0 nullptr: zeros. hT / cT nullptr: not written. c0, cT, dcT, dc0 are LSTM only (ignored
// otherwise).
// go_backwards: steps are processed for t = T-1 .. 0, and y is stored in processing order, as
// Keras returns it: y[:, s] is the output of the s-th processed step (time T-1-s).
// mask[n, t] (uint8, indexed by input time t as x is; nonzero = keep, 0 = masked): at a masked
// step the state (h, and c for LSTM) is carried over unchanged, and y[n, s] is zeros when
// zero_output_for_mask, else the carried h (Keras 3's rule on its jax/torch/numpy backends:
// the previous output is states[0]; Keras's TF backend differs only for a masked prefix with a
// nonzero initial state, where it outputs zeros). A masked step's dx rows are zero.
// rmask[n, u] (recurrent dropout, Keras's one mask per call, the same at every step and for
// every gate; values usually 0 or 1/(1-rate), any value allowed): h_{t-1} is replaced by
// hd = h_{t-1} * rmask wherever it multiplies R, and only there:
//   SimpleRNN, LSTM, GRU reset_after=true: (.) = x W_k + hd R_k + b_k (+ b_rec_k)
//   GRU reset_after=false: z, r from hd R_z, hd R_r; h~ = act(x W_h + (r*hd) R_h + b_h)
//   GRU's state mix h_t = z*h_{t-1} + (1-z)*h~ keeps the undropped h_{t-1}.
// A masked step (mask) still carries the undropped state. The backward is the exact gradient
// of that function (dR from hd; dh_{t-1} gets rmask * d(hd) plus GRU's direct z path); rmask
// itself gets no gradient. rmask nullptr: no recurrent dropout (the formulas above with
// hd = h_{t-1}). The backward must be given the forward's rmask.
//
//   rnn_forward<T>(cfg, x, W, R, b, h0, c0, mask, rmask, y, hT, cT, workspace)
//   rnn_backward<T>(cfg, x, W, R, mask, rmask, dy, dhT, dcT, workspace, dx, dh0, dc0, dW, dR,
//                   db)
//     dy (N, T, U) in y's (processing) order, dhT (N, U), dcT (N, U): gradients of the
//     outputs; nullptr = zeros. Writes dx (N, T, In), dh0, dc0 (N, U), dW, dR, db (b's shape),
//     each OVERWRITTEN (not accumulated); any of dx, dh0, dc0, db may be nullptr (not wanted).
//
// Workspace: rnn_workspace_size(cfg) elements of T (the per-cell *_workspace_size functions
// below give the same number). Contents are unspecified on entry to rnn_forward. rnn_forward
// fills the first rnn_forward_workspace_size(cfg) elements with what backward reads (the
// post-activation gates, hd = h_{t-1} * rmask of every step, and per cell c_{t-1} (LSTM),
// r*hd (GRU reset_after=false) or hd R_h + b_rec_h (GRU reset_after=true), and for GRU with
// rmask the undropped h_{t-1} too); rnn_backward reads them, writes the gates' gradients over
// the gates (one buffer fewer to fill and to fault in) and uses the rest as scratch. So a
// backward consumes its forward: the workspace must come straight from the forward of that
// call, and a second backward needs the forward run again. An inference-only forward may be
// given just rnn_forward_workspace_size(cfg) elements. The buffer is the caller's: the kernels
// allocate nothing per step (bias column sums use reduce.h; R^T for the backward's per-step
// products lives in a per-thread scratch buffer that grows once).
// ----------------------------------------------------------------------------------------------
//
// Threads: the GEMMs split as gemm.h decides; the fused passes split rows (batch entries) over
// the pool through an AdaptiveParallel site. Each element's arithmetic does not depend on the
// split, so results do not depend on the thread count beyond what gemm.h guarantees.
#pragma once
#include <cstdint>

namespace gf {

enum class RnnCell { SimpleRNN, LSTM, GRU };

// Keras names: tanh, sigmoid, hard_sigmoid (Keras 3: relu6(x + 3) / 6 = clip(x/6 + 0.5, 0, 1)),
// hard_sigmoid in tfjs / Keras 2 (clip(0.2 x + 0.5, 0, 1)), relu, linear.
enum class RnnActivation { Tanh, Sigmoid, HardSigmoid, HardSigmoidLegacy, Relu, Linear };

struct RnnConfig {
  RnnCell cell = RnnCell::LSTM;
  int64_t N = 0, T = 0, In = 0, U = 0;  // batch, timesteps, input features, units
  RnnActivation activation = RnnActivation::Tanh;
  RnnActivation recurrent_activation = RnnActivation::Sigmoid;
  bool reset_after = true;  // GRU only
  bool go_backwards = false;
  bool zero_output_for_mask = false;
};

inline int64_t rnn_gates(RnnCell cell) {
  return cell == RnnCell::LSTM ? 4 : cell == RnnCell::GRU ? 3 : 1;
}

// Element counts (of T) of the workspace; see the contract above.
int64_t rnn_forward_workspace_size(const RnnConfig& cfg);
int64_t rnn_workspace_size(const RnnConfig& cfg);

inline int64_t simple_rnn_workspace_size(int64_t N, int64_t T, int64_t In, int64_t U) {
  RnnConfig c;
  c.cell = RnnCell::SimpleRNN; c.N = N; c.T = T; c.In = In; c.U = U;
  return rnn_workspace_size(c);
}
inline int64_t lstm_workspace_size(int64_t N, int64_t T, int64_t In, int64_t U) {
  RnnConfig c;
  c.cell = RnnCell::LSTM; c.N = N; c.T = T; c.In = In; c.U = U;
  return rnn_workspace_size(c);
}
inline int64_t gru_workspace_size(int64_t N, int64_t T, int64_t In, int64_t U,
                                  bool reset_after) {
  RnnConfig c;
  c.cell = RnnCell::GRU; c.N = N; c.T = T; c.In = In; c.U = U; c.reset_after = reset_after;
  return rnn_workspace_size(c);
}

template <typename T>
void rnn_forward(const RnnConfig& cfg, const T* x, const T* W, const T* R, const T* b,
                 const T* h0, const T* c0, const uint8_t* mask, const T* rmask, T* y, T* hT,
                 T* cT, T* workspace);

template <typename T>
void rnn_backward(const RnnConfig& cfg, const T* x, const T* W, const T* R,
                  const uint8_t* mask, const T* rmask, const T* dy, const T* dhT, const T* dcT,
                  T* workspace, T* dx, T* dh0, T* dc0, T* dW, T* dR, T* db);

#define GF_RNN_DECLARE(T)                                                                    \
  extern template void rnn_forward<T>(const RnnConfig&, const T*, const T*, const T*,        \
                                      const T*, const T*, const T*, const uint8_t*, const T*, \
                                      T*, T*, T*, T*);                                       \
  extern template void rnn_backward<T>(const RnnConfig&, const T*, const T*, const T*,       \
                                       const uint8_t*, const T*, const T*, const T*,         \
                                       const T*, T*, T*, T*, T*, T*, T*, T*);
GF_RNN_DECLARE(float)
GF_RNN_DECLARE(double)
#undef GF_RNN_DECLARE

}  // namespace gf

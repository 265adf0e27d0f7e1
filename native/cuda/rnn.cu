// CUDA recurrent layers: see rnn.h for the contract and the workspace layout. The kernels here
// are the elementwise per-step passes; every product goes through gf::cuda::gemm.
#include "cuda/rnn.h"

#include <math.h>

#include <algorithm>

#include "cuda/check.h"
#include "cuda/gemm.h"
#include "cuda/launch.h"

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu into
// one translation unit, where two anonymous namespaces would collide.
namespace rnn_impl {
namespace {

constexpr int kThreads = 128;
constexpr int64_t kMaxBlocks = 4096;

unsigned blocks_for(int64_t n) { return grid_blocks(n, kThreads, kMaxBlocks); }

// What the per-step kernels need of the config, as a trivially copyable value.
struct Step {
  int cell;  // RnnCell as int
  int act, ract;
  int zero_out;
  int64_t N, T, U, G;  // G: gates per cell
  int64_t t, s;  // input time, processing step
};

__device__ float act_f(int a, float v) {
  switch (static_cast<RnnActivation>(a)) {
    case RnnActivation::Tanh: return tanhf(v);
    case RnnActivation::Sigmoid: return 1.0f / (1.0f + expf(-v));
    case RnnActivation::HardSigmoid: return fminf(1.0f, fmaxf(0.0f, (v + 3.0f) / 6.0f));
    case RnnActivation::HardSigmoidLegacy: return fminf(1.0f, fmaxf(0.0f, 0.2f * v + 0.5f));
    case RnnActivation::Relu: return v > 0.0f ? v : 0.0f;
    default: return v;
  }
}

// The derivative from the activation's output y, which is all the backward keeps: for relu
// and the hard sigmoids y > 0 (and y < 1) is the same test as on the pre-activation.
__device__ float dact_f(int a, float y) {
  switch (static_cast<RnnActivation>(a)) {
    case RnnActivation::Tanh: return 1.0f - y * y;
    case RnnActivation::Sigmoid: return y * (1.0f - y);
    case RnnActivation::HardSigmoid: return (y > 0.0f && y < 1.0f) ? 1.0f / 6.0f : 0.0f;
    case RnnActivation::HardSigmoidLegacy: return (y > 0.0f && y < 1.0f) ? 0.2f : 0.0f;
    case RnnActivation::Relu: return y > 0.0f ? 1.0f : 0.0f;
    default: return 1.0f;
  }
}

__global__ void copy_or_zero_kernel(int64_t n, const float* src, float* dst) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = src ? src[i] : 0.0f;
}

// Before step t's recurrent GEMM: keeps h_{t-1}, hd = h_{t-1} * rmask and (LSTM) c_{t-1} in
// the step's rows for the backward; the GEMM then reads hd from there.
__global__ void prep_kernel(Step p, const float* h, const float* c, const float* rmask,
                            float* hd, float* hprev, float* cprev) {
  const int64_t n_all = p.N * p.U;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n_all;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = i / p.U, u = i % p.U;
    const int64_t o = (n * p.T + p.t) * p.U + u;
    hprev[o] = h[i];
    hd[o] = rmask ? h[i] * rmask[i] : h[i];
    if (cprev) cprev[o] = c[i];
  }
}

// One step's gate math and state update, per (n, u). phase 0: the whole cell; GRU
// reset_before runs phase 1 (z, r and r*hd, before the GEMM for R_h) then phase 2 (h~, state).
__global__ void cell_forward_kernel(Step p, int phase, const uint8_t* mask, float* gates,
                                    const float* hd, float* aux, const float* rec, float* y,
                                    float* h, float* c) {
  const int64_t U = p.U, GU = p.G * U;
  const int64_t n_all = p.N * U;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n_all;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = i / U, u = i % U;
    const int64_t row = n * p.T + p.t;
    float* g = gates + row * GU;
    const float hp = h[i];
    float hn = 0.0f, cn = 0.0f;
    switch (static_cast<RnnCell>(p.cell)) {
      case RnnCell::SimpleRNN:
        hn = g[u] = act_f(p.act, g[u]);
        break;
      case RnnCell::LSTM: {
        const float ig = act_f(p.ract, g[u]), f = act_f(p.ract, g[U + u]);
        const float gg = act_f(p.act, g[2 * U + u]), o = act_f(p.ract, g[3 * U + u]);
        g[u] = ig; g[U + u] = f; g[2 * U + u] = gg; g[3 * U + u] = o;
        cn = f * c[i] + ig * gg;
        hn = o * act_f(p.act, cn);
        break;
      }
      default: {  // GRU
        if (phase == 1) {
          const float z = act_f(p.ract, g[u]), r = act_f(p.ract, g[U + u]);
          g[u] = z; g[U + u] = r;
          aux[row * U + u] = r * hd[row * U + u];
          continue;  // the state update waits for phase 2
        }
        float z, hh;
        if (phase == 2) {
          z = g[u];
          hh = g[2 * U + u] = act_f(p.act, g[2 * U + u]);
        } else {  // reset_after: rec = hd R + b_rec
          const float* rc = rec + n * GU;
          z = act_f(p.ract, g[u] + rc[u]);
          const float r = act_f(p.ract, g[U + u] + rc[U + u]);
          const float rh = rc[2 * U + u];
          aux[row * U + u] = rh;
          hh = act_f(p.act, g[2 * U + u] + r * rh);
          g[u] = z; g[U + u] = r; g[2 * U + u] = hh;
        }
        hn = z * hp + (1.0f - z) * hh;
        break;
      }
    }
    const bool keep = !mask || mask[n * p.T + p.t] != 0;
    float* yr = y + (n * p.T + p.s) * U;
    if (keep) {
      h[i] = hn;
      if (static_cast<RnnCell>(p.cell) == RnnCell::LSTM) c[i] = cn;
      yr[u] = hn;
    } else {
      yr[u] = p.zero_out ? 0.0f : hp;  // the state is carried over unchanged
    }
  }
}

// One step's gate gradients, written over the gates, per (n, u). dh in: dL/dh_t from later
// steps; dhdir out: what reaches h_{t-1} outside the recurrent GEMM. phase as in the forward
// (GRU reset_before: 1 = z and h~ slots, 2 = r slot from drh = d(r*hd), left as d(hd) in drh).
// A masked step passes dh (plus dy when the carried h was the output) straight through and
// has zero gate gradients, so it adds nothing to dx, dW, dR, db.
__global__ void cell_backward_kernel(Step p, int phase, const uint8_t* mask, const float* dy,
                                     float* gates, const float* hd, const float* hprev,
                                     const float* aux, float* dr, const float* dh, float* dc,
                                     float* dhdir, float* drh) {
  const int64_t U = p.U, G = p.G, GU = G * U;
  const int64_t n_all = p.N * U;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n_all;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = i / U, u = i % U;
    const int64_t row = n * p.T + p.t, o = row * U + u;
    float* g = gates + row * GU;
    const bool keep = !mask || mask[n * p.T + p.t] != 0;
    if (phase == 2) {
      if (keep) {
        const float d = drh[i], r = g[U + u];
        g[U + u] = d * hd[o] * dact_f(p.ract, r);
        drh[i] = d * r;
      } else {
        g[U + u] = 0.0f;
        drh[i] = 0.0f;
      }
      continue;
    }
    const float dyv = dy ? dy[(n * p.T + p.s) * U + u] : 0.0f;
    if (!keep) {
      for (int64_t k = 0; k < G; ++k) g[k * U + u] = 0.0f;
      if (dr) for (int64_t k = 0; k < G; ++k) dr[row * GU + k * U + u] = 0.0f;
      dhdir[i] = p.zero_out ? dh[i] : dh[i] + dyv;
      continue;
    }
    const float dht = dh[i] + dyv;
    switch (static_cast<RnnCell>(p.cell)) {
      case RnnCell::SimpleRNN:
        g[u] = dht * dact_f(p.act, g[u]);
        dhdir[i] = 0.0f;
        break;
      case RnnCell::LSTM: {
        const float ig = g[u], f = g[U + u], gg = g[2 * U + u], og = g[3 * U + u];
        const float cp = aux[o];
        const float ac = act_f(p.act, f * cp + ig * gg);  // c_t as the forward computed it
        const float dct = dc[i] + dht * og * dact_f(p.act, ac);
        g[u] = dct * gg * dact_f(p.ract, ig);
        g[U + u] = dct * cp * dact_f(p.ract, f);
        g[2 * U + u] = dct * ig * dact_f(p.act, gg);
        g[3 * U + u] = dht * ac * dact_f(p.ract, og);
        dc[i] = dct * f;
        dhdir[i] = 0.0f;
        break;
      }
      default: {  // GRU
        const float z = g[u], hh = g[2 * U + u], hs = hprev[o];
        const float dph = dht * (1.0f - z) * dact_f(p.act, hh);
        const float dpz = dht * (hs - hh) * dact_f(p.ract, z);
        if (phase == 1) {  // reset_before: r's slot waits for d(r*hd)
          g[u] = dpz;
          g[2 * U + u] = dph;
        } else {  // reset_after
          const float r = g[U + u];
          const float dpr = dph * aux[o] * dact_f(p.ract, r);
          float* d = dr + row * GU;
          g[u] = d[u] = dpz;
          g[U + u] = d[U + u] = dpr;
          g[2 * U + u] = dph;
          d[2 * U + u] = dph * r;
        }
        dhdir[i] = dht * z;
        break;
      }
    }
  }
}

// dh_{t-1} = dhdir + rmask * d(hd) (a masked step's d(hd) is zero: its gate gradients are).
__global__ void dh_update_kernel(Step p, const uint8_t* mask, const float* rmask,
                                 const float* dhdir, const float* dhd, float* dh) {
  const int64_t n_all = p.N * p.U;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n_all;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = i / p.U;
    const bool keep = !mask || mask[n * p.T + p.t] != 0;
    dh[i] = keep ? dhdir[i] + (rmask ? rmask[i] * dhd[i] : dhd[i]) : dhdir[i];
  }
}

// out[c] = sum over rows of src[r * C + c], in row order and in double: deterministic.
__global__ void column_sum_kernel(int64_t M, int64_t C, const float* src, float* out) {
  for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < C;
       c += int64_t(gridDim.x) * blockDim.x) {
    double s = 0.0;
    for (int64_t r = 0; r < M; ++r) s += src[r * C + c];
    out[c] = static_cast<float>(s);
  }
}

struct Layout {
  float *gates, *hd, *hprev, *aux, *dr, *rec, *h, *c, *dh, *dc, *dhdir, *dhd;
};

bool reset_after(const RnnConfig& cfg) { return cfg.cell == RnnCell::GRU && cfg.reset_after; }

Layout layout(const RnnConfig& cfg, float* w) {
  const int64_t M = cfg.N * cfg.T, U = cfg.U, GU = rnn_gates(cfg.cell) * U, NU = cfg.N * U;
  Layout l{};
  l.gates = w; w += M * GU;
  l.hd = w; w += M * U;
  l.hprev = w; w += M * U;
  l.aux = nullptr;
  if (cfg.cell != RnnCell::SimpleRNN) { l.aux = w; w += M * U; }
  l.dr = l.rec = nullptr;
  if (reset_after(cfg)) {
    l.dr = w; w += M * GU;
    l.rec = w; w += cfg.N * GU;
  }
  l.h = w; w += NU;
  l.c = w; w += NU;
  l.dh = w; w += NU;
  l.dc = w; w += NU;
  l.dhdir = w; w += NU;
  l.dhd = w;
  return l;
}

Step step_of(const RnnConfig& cfg, int64_t s) {
  Step p{};
  p.cell = static_cast<int>(cfg.cell);
  p.act = static_cast<int>(cfg.activation);
  p.ract = static_cast<int>(cfg.recurrent_activation);
  p.zero_out = cfg.zero_output_for_mask ? 1 : 0;
  p.N = cfg.N; p.T = cfg.T; p.U = cfg.U; p.G = rnn_gates(cfg.cell);
  p.s = s;
  p.t = cfg.go_backwards ? cfg.T - 1 - s : s;
  return p;
}

cudaError_t copy_or_zero(int64_t n, const float* src, float* dst, cudaStream_t stream) {
  return launch_grid(copy_or_zero_kernel, n, kThreads, kMaxBlocks, stream, n, src, dst);
}

cudaError_t column_sum(int64_t M, int64_t C, const float* src, float* out, cudaStream_t stream) {
  return launch_grid(column_sum_kernel, C, kThreads, kMaxBlocks, stream, M, C, src, out);
}

}  // namespace
}  // namespace rnn_impl

int64_t rnn_workspace_size(const RnnConfig& cfg) {
  const int64_t M = cfg.N * cfg.T, U = cfg.U, GU = rnn_gates(cfg.cell) * U;
  int64_t n = M * GU + 2 * M * U + 6 * cfg.N * U;
  if (cfg.cell != RnnCell::SimpleRNN) n += M * U;
  if (cfg.cell == RnnCell::GRU && cfg.reset_after) n += M * GU + cfg.N * GU;
  return n;
}

cudaError_t rnn_forward(const RnnConfig& cfg, const float* x, const float* W, const float* R,
                        const float* b, const float* h0, const float* c0, const uint8_t* mask,
                        float* y, float* hT, float* cT, float* workspace,
                        const float* recurrentMask, cudaStream_t stream) {
  using namespace rnn_impl;
  const int64_t N = cfg.N, T = cfg.T, In = cfg.In, U = cfg.U, GU = rnn_gates(cfg.cell) * U;
  const int64_t M = N * T, NU = N * U;
  if (NU == 0) return cudaSuccess;
  const bool lstm = cfg.cell == RnnCell::LSTM, gru = cfg.cell == RnnCell::GRU;
  const bool ra = reset_after(cfg);
  const Layout l = layout(cfg, workspace);
  GF_CUDA_RETURN_IF_ERROR(copy_or_zero(NU, h0, l.h, stream));
  if (lstm) GF_CUDA_RETURN_IF_ERROR(copy_or_zero(NU, c0, l.c, stream));
  GemmEpilogue<float> in_bias;
  in_bias.bias = b;  // reset_after: the first row, the input bias
  GF_CUDA_RETURN_IF_ERROR(gemm(false, false, M, GU, In, 1.0f, x, In, W, GU, 0.0f, l.gates, GU,
                               in_bias, stream));
  GemmEpilogue<float> rec_bias;
  rec_bias.bias = (ra && b) ? b + GU : nullptr;
  using Prep = void (*)(Step, const float*, const float*, const float*, float*, float*, float*);
  using Cell = void (*)(Step, int, const uint8_t*, float*, const float*, float*, const float*,
                        float*, float*, float*);
  const Prep prep = prep_kernel;
  const Cell cell = cell_forward_kernel;
  const dim3 grid(blocks_for(NU)), block(kThreads);
  for (int64_t s = 0; s < T; ++s) {
    const Step p = step_of(cfg, s);
    float* gt = l.gates + p.t * GU;
    const float* hdt = l.hd + p.t * U;
    GF_LAUNCH(prep, grid, block, stream, p, l.h, l.c, recurrentMask, l.hd, l.hprev,
              lstm ? l.aux : nullptr);
    GF_CUDA_RETURN_IF_ERROR(cudaGetLastError());
    if (!gru) {
      GF_CUDA_RETURN_IF_ERROR(
          gemm(false, false, N, GU, U, 1.0f, hdt, T * U, R, GU, 1.0f, gt, T * GU, stream));
      GF_LAUNCH(cell, grid, block, stream, p, 0, mask, l.gates, l.hd, l.aux, l.rec, y, l.h, l.c);
    } else if (ra) {
      GF_CUDA_RETURN_IF_ERROR(gemm(false, false, N, GU, U, 1.0f, hdt, T * U, R, GU, 0.0f, l.rec,
                                   GU, rec_bias, stream));
      GF_LAUNCH(cell, grid, block, stream, p, 0, mask, l.gates, l.hd, l.aux, l.rec, y, l.h, l.c);
    } else {
      GF_CUDA_RETURN_IF_ERROR(
          gemm(false, false, N, 2 * U, U, 1.0f, hdt, T * U, R, GU, 1.0f, gt, T * GU, stream));
      GF_LAUNCH(cell, grid, block, stream, p, 1, mask, l.gates, l.hd, l.aux, l.rec, y, l.h, l.c);
      GF_CUDA_RETURN_IF_ERROR(cudaGetLastError());
      GF_CUDA_RETURN_IF_ERROR(gemm(false, false, N, U, U, 1.0f, l.aux + p.t * U, T * U, R + 2 * U,
                                   GU, 1.0f, gt + 2 * U, T * GU, stream));
      GF_LAUNCH(cell, grid, block, stream, p, 2, mask, l.gates, l.hd, l.aux, l.rec, y, l.h, l.c);
    }
    GF_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  }
  if (hT) GF_CUDA_RETURN_IF_ERROR(copy_or_zero(NU, l.h, hT, stream));
  if (lstm && cT) GF_CUDA_RETURN_IF_ERROR(copy_or_zero(NU, l.c, cT, stream));
  return cudaSuccess;
}

cudaError_t rnn_backward(const RnnConfig& cfg, const float* x, const float* W, const float* R,
                         const uint8_t* mask, const float* dy, const float* dhT,
                         const float* dcT, float* workspace, float* dx, float* dh0, float* dc0,
                         float* dW, float* dR, float* db, const float* recurrentMask,
                         cudaStream_t stream) {
  using namespace rnn_impl;
  const int64_t N = cfg.N, T = cfg.T, In = cfg.In, U = cfg.U, GU = rnn_gates(cfg.cell) * U;
  const int64_t M = N * T, NU = N * U;
  const bool lstm = cfg.cell == RnnCell::LSTM, gru = cfg.cell == RnnCell::GRU;
  const bool ra = reset_after(cfg);
  if (NU == 0) {  // no rows: the weight gradients are zeros (K = 0 products)
    if (U > 0) {
      GF_CUDA_RETURN_IF_ERROR(copy_or_zero(In * GU, nullptr, dW, stream));
      GF_CUDA_RETURN_IF_ERROR(copy_or_zero(U * GU, nullptr, dR, stream));
      if (db) GF_CUDA_RETURN_IF_ERROR(copy_or_zero(ra ? 2 * GU : GU, nullptr, db, stream));
    }
    return cudaSuccess;
  }
  const Layout l = layout(cfg, workspace);
  GF_CUDA_RETURN_IF_ERROR(copy_or_zero(NU, dhT, l.dh, stream));
  if (lstm) GF_CUDA_RETURN_IF_ERROR(copy_or_zero(NU, dcT, l.dc, stream));
  using Cell = void (*)(Step, int, const uint8_t*, const float*, float*, const float*,
                        const float*, const float*, float*, const float*, float*, float*,
                        float*);
  using Upd = void (*)(Step, const uint8_t*, const float*, const float*, const float*, float*);
  const Cell cell = cell_backward_kernel;
  const Upd upd = dh_update_kernel;
  const dim3 grid(blocks_for(NU)), block(kThreads);
  for (int64_t s = T - 1; s >= 0; --s) {
    const Step p = step_of(cfg, s);
    const float* gt = l.gates + p.t * GU;
    if (!gru || ra) {
      GF_LAUNCH(cell, grid, block, stream, p, 0, mask, dy, l.gates, l.hd, l.hprev, l.aux, l.dr,
                l.dh, l.dc, l.dhdir, l.dhd);
      GF_CUDA_RETURN_IF_ERROR(cudaGetLastError());
      const float* src = ra ? l.dr + p.t * GU : gt;
      GF_CUDA_RETURN_IF_ERROR(
          gemm(false, true, N, U, GU, 1.0f, src, T * GU, R, GU, 0.0f, l.dhd, U, stream));
    } else {
      GF_LAUNCH(cell, grid, block, stream, p, 1, mask, dy, l.gates, l.hd, l.hprev, l.aux, l.dr,
                l.dh, l.dc, l.dhdir, l.dhd);
      GF_CUDA_RETURN_IF_ERROR(cudaGetLastError());
      GF_CUDA_RETURN_IF_ERROR(gemm(false, true, N, U, U, 1.0f, gt + 2 * U, T * GU, R + 2 * U, GU,
                                   0.0f, l.dhd, U, stream));
      GF_LAUNCH(cell, grid, block, stream, p, 2, mask, dy, l.gates, l.hd, l.hprev, l.aux, l.dr,
                l.dh, l.dc, l.dhdir, l.dhd);
      GF_CUDA_RETURN_IF_ERROR(cudaGetLastError());
      GF_CUDA_RETURN_IF_ERROR(
          gemm(false, true, N, U, 2 * U, 1.0f, gt, T * GU, R, GU, 1.0f, l.dhd, U, stream));
    }
    GF_LAUNCH(upd, grid, block, stream, p, mask, recurrentMask, l.dhdir, l.dhd, l.dh);
    GF_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  }
  if (dh0) GF_CUDA_RETURN_IF_ERROR(copy_or_zero(NU, l.dh, dh0, stream));
  if (lstm && dc0) GF_CUDA_RETURN_IF_ERROR(copy_or_zero(NU, l.dc, dc0, stream));
  GF_CUDA_RETURN_IF_ERROR(
      gemm(true, false, In, GU, M, 1.0f, x, In, l.gates, GU, 0.0f, dW, GU, stream));
  if (!gru || ra) {
    GF_CUDA_RETURN_IF_ERROR(gemm(true, false, U, GU, M, 1.0f, l.hd, U, ra ? l.dr : l.gates, GU,
                                 0.0f, dR, GU, stream));
  } else {  // R_z, R_r multiply hd; R_h multiplies r*hd
    GF_CUDA_RETURN_IF_ERROR(
        gemm(true, false, U, 2 * U, M, 1.0f, l.hd, U, l.gates, GU, 0.0f, dR, GU, stream));
    GF_CUDA_RETURN_IF_ERROR(gemm(true, false, U, U, M, 1.0f, l.aux, U, l.gates + 2 * U, GU, 0.0f,
                                 dR + 2 * U, GU, stream));
  }
  if (dx) GF_CUDA_RETURN_IF_ERROR(
      gemm(false, true, M, In, GU, 1.0f, l.gates, GU, W, GU, 0.0f, dx, In, stream));
  if (db) {
    GF_CUDA_RETURN_IF_ERROR(column_sum(M, GU, l.gates, db, stream));
    if (ra) GF_CUDA_RETURN_IF_ERROR(column_sum(M, GU, l.dr, db + GU, stream));
  }
  return cudaSuccess;
}

}  // namespace cuda
}  // namespace gf

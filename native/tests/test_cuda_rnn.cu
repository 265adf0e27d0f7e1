// CUDA recurrent layers (native/cuda/rnn.cu) against the per-element double references
// (ref::rnn_forward / ref::rnn_backward<double>, run on the same float data): SimpleRNN, LSTM,
// GRU reset_after true and false, each with Keras's default activations and one other pair
// (relu / hard_sigmoid, linear / hard_sigmoid (Keras 3), tanh / hard_sigmoid (legacy)),
// go_backwards, with and without the mask (one batch row wholly masked when N = 3, masked
// prefixes and gaps otherwise) and zero_output_for_mask both ways, with and without h0 / c0,
// the recurrent dropout mask and the output gradients dy / dhT / dcT, sizes N 1 and 3, T 1 and
// 5, In 3 and 7, U 1, 5 and 33. Outputs and the workspace start as NaN (an element not written
// fails, and so does reading workspace the forward did not fill) with guard floats after each
// output that must stay untouched.
// Tolerance per output array: 1e-4 * max(1, max |want|). Why: inputs are O(1) and weights
// scaled by 1/sqrt(fan-in), so every pre-activation is a sum of K <= In + 3U <= 106 float FMAs
// of O(1) terms (error <= K eps ~ 6e-6 relative to the scale), tanhf / expf add a few ulp, and
// T <= 5 steps compound it a few times over (the recurrence is contractive with these weights);
// the weight gradients sum N*T <= 15 such products more. 1e-4 is ~10x that bound, and a
// wrong gate order, activation or mask rule moves outputs by O(0.1).
// No device: "SKIP: <reason>", exit 77. GF_CUDA_SMALL=1 (and the emulation): small shapes only.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cpu/rnn.h"
#include "cuda/rnn.h"
#include "cuda/testing.h"
#include "ref/ref.h"
#include "tests/test_util.h"

// GF_CUDA_EMULATED_TEST: also runs over the host emulation (test_cuda_emulated rnn).
namespace rnn_test {

using namespace gf;
using namespace gf::test;
namespace ct = gf::cuda::testing;

constexpr size_t kGuard = 8;
const float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Case {
  RnnCell cell;
  bool reset_after;
  RnnActivation act, ract;
  int64_t N, T, In, U;
  bool go_backwards, masked, zero_out, with_h0, with_rmask, with_grads;
};

std::vector<float> rand_vec(std::mt19937& rng, size_t n, float scale) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (float& e : v) e = d(rng);
  return v;
}

std::vector<double> to_d(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

void finish_output(const float* p, const std::vector<double>& want, cudaStream_t stream,
                   const std::string& what) {
  std::vector<float> got;
  if (!ct::download(p, want.size(), stream, &got)) return;
  double scale = 1.0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  const double tol = 1e-4 * scale;
  size_t bad = 0, first = 0;
  double worst = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double e = std::fabs(double(got[i]) - want[i]);
    if (!(e <= tol)) {
      if (bad++ == 0) first = i;
      worst = std::isnan(e) ? e : std::max(worst, e);
    }
  }
  if (bad) {
    fail(what + ": " + std::to_string(bad) + " of " + std::to_string(want.size()) +
         " elements off (first at " + std::to_string(first) + ": got " +
         std::to_string(got[first]) + ", want " + std::to_string(want[first]) + ", tol " +
         std::to_string(tol) + ")");
  } else {
    check(true, what);
  }
  ct::guard_intact(p, want.size(), kGuard, stream, what + " (guard)");
}

const char* cell_name(const Case& c) {
  if (c.cell == RnnCell::SimpleRNN) return "simple";
  if (c.cell == RnnCell::LSTM) return "lstm";
  return c.reset_after ? "gru_ra" : "gru_rb";
}

void run_case(const Case& cs, int variant, cudaStream_t stream) {
  RnnConfig cfg;
  cfg.cell = cs.cell; cfg.N = cs.N; cfg.T = cs.T; cfg.In = cs.In; cfg.U = cs.U;
  cfg.activation = cs.act; cfg.recurrent_activation = cs.ract;
  cfg.reset_after = cs.reset_after; cfg.go_backwards = cs.go_backwards;
  cfg.zero_output_for_mask = cs.zero_out;
  const int64_t N = cs.N, T = cs.T, In = cs.In, U = cs.U, GU = rnn_gates(cs.cell) * U;
  const bool lstm = cs.cell == RnnCell::LSTM;
  const bool ra = cs.cell == RnnCell::GRU && cs.reset_after;
  const std::string wh = std::string(cell_name(cs)) + " act " + std::to_string(int(cs.act)) +
                         "/" + std::to_string(int(cs.ract)) + " N" + std::to_string(N) + " T" +
                         std::to_string(T) + " In" + std::to_string(In) + " U" +
                         std::to_string(U) + (cs.go_backwards ? " back" : "") +
                         (cs.masked ? (cs.zero_out ? " mask0" : " mask") : "") +
                         (cs.with_h0 ? " h0" : "") + (cs.with_rmask ? " rmask" : "") +
                         (cs.with_grads ? " dhT" : "");
  std::mt19937 rng(1234u + 7919u * static_cast<unsigned>(variant));
  const float ws = 1.0f / std::sqrt(float(In)), rs = 1.0f / std::sqrt(float(U));
  std::vector<float> x = rand_vec(rng, N * T * In, 1.0f), W = rand_vec(rng, In * GU, ws),
                     R = rand_vec(rng, U * GU, rs), b = rand_vec(rng, (ra ? 2 : 1) * GU, 0.5f);
  std::vector<float> h0 = rand_vec(rng, N * U, 0.8f), c0 = rand_vec(rng, N * U, 0.8f);
  std::vector<float> dy = rand_vec(rng, N * T * U, 1.0f), dhT = rand_vec(rng, N * U, 1.0f),
                     dcT = rand_vec(rng, N * U, 1.0f);
  std::vector<float> rmask(N * U);
  for (float& v : rmask) v = (rng() % 4 == 0) ? 0.0f : 1.0f / 0.75f;
  std::vector<uint8_t> mask(N * T, 1);
  if (cs.masked) {
    for (int64_t n = 0; n < N; ++n)
      for (int64_t t = 0; t < T; ++t) {
        if (N == 3 && n == 1) mask[n * T + t] = 0;              // an all-masked row
        else if (t == 0 && n == 0) mask[n * T + t] = 0;         // a masked first step
        else if (T > 2 && t == 2 && n != 1) mask[n * T + t] = 0;  // a gap
      }
  }
  const uint8_t* hmask = cs.masked ? mask.data() : nullptr;

  // References in double on the float data.
  const std::vector<double> xd = to_d(x), Wd = to_d(W), Rd = to_d(R), bd = to_d(b),
                            h0d = to_d(h0), c0d = to_d(c0), dyd = to_d(dy), dhTd = to_d(dhT),
                            dcTd = to_d(dcT), rmd = to_d(rmask);
  std::vector<double> wy(N * T * U), whT(N * U), wcT(N * U);
  ref::rnn_forward<double>(cfg, xd.data(), Wd.data(), Rd.data(), bd.data(),
                           cs.with_h0 ? h0d.data() : nullptr, cs.with_h0 ? c0d.data() : nullptr,
                           hmask, cs.with_rmask ? rmd.data() : nullptr, wy.data(), whT.data(),
                           wcT.data());
  std::vector<double> wdx(N * T * In), wdh0(N * U), wdc0(N * U), wdW(In * GU), wdR(U * GU),
      wdb(b.size());
  ref::rnn_backward<double>(cfg, xd.data(), Wd.data(), Rd.data(), bd.data(),
                            cs.with_h0 ? h0d.data() : nullptr, cs.with_h0 ? c0d.data() : nullptr,
                            hmask, cs.with_rmask ? rmd.data() : nullptr, dyd.data(),
                            cs.with_grads ? dhTd.data() : nullptr,
                            cs.with_grads ? dcTd.data() : nullptr, wdx.data(), wdh0.data(),
                            wdc0.data(), wdW.data(), wdR.data(), wdb.data());

  cuda::DeviceBuffer bx, bW, bR, bb, bh0, bc0, bdy, bdhT, bdcT, brm, bmask, bws;
  float *px, *pW, *pR, *pb, *ph0, *pc0, *pdy, *pdhT, *pdcT, *prm, *pws;
  if (!ct::upload(x, 0, 0, stream, &bx, &px) || !ct::upload(W, 1, 0, stream, &bW, &pW) ||
      !ct::upload(R, 0, 0, stream, &bR, &pR) || !ct::upload(b, 0, 0, stream, &bb, &pb) ||
      !ct::upload(h0, 0, 0, stream, &bh0, &ph0) || !ct::upload(c0, 0, 0, stream, &bc0, &pc0) ||
      !ct::upload(dy, 0, 0, stream, &bdy, &pdy) || !ct::upload(dhT, 0, 0, stream, &bdhT, &pdhT) ||
      !ct::upload(dcT, 0, 0, stream, &bdcT, &pdcT) ||
      !ct::upload(rmask, 0, 0, stream, &brm, &prm) ||
      !ct::upload(std::vector<float>(cuda::rnn_workspace_size(cfg), kNaN), 0, 0, stream, &bws,
                  &pws))
    return;
  uint8_t* pmask = nullptr;
  if (cs.masked) {
    if (!ct::ok(bmask.allocate(mask.size(), stream), "allocate mask") ||
        !ct::ok(cudaMemcpyAsync(bmask.get(), mask.data(), mask.size(), cudaMemcpyHostToDevice,
                                stream),
                "mask H2D"))
      return;
    pmask = bmask.as<uint8_t>();
  }
  const float* rm = cs.with_rmask ? prm : nullptr;

  cuda::DeviceBuffer by, bhT, bcT;
  float *py, *phT, *pcT;
  if (!ct::poisoned_output(wy.size(), kGuard, stream, &by, &py) || !ct::poisoned_output(whT.size(), kGuard, stream, &bhT, &phT) ||
      !ct::poisoned_output(wcT.size(), kGuard, stream, &bcT, &pcT))
    return;
  if (!ct::ok(cuda::rnn_forward(cfg, px, pW, pR, pb, cs.with_h0 ? ph0 : nullptr,
                                cs.with_h0 ? pc0 : nullptr, pmask, py, phT, lstm ? pcT : nullptr,
                                pws, rm, stream),
              wh + " forward"))
    return;
  finish_output(py, wy, stream, wh + " y");
  finish_output(phT, whT, stream, wh + " hT");
  if (lstm) finish_output(pcT, wcT, stream, wh + " cT");

  cuda::DeviceBuffer bdx, bdh0, bdc0, bdW, bdR, bdb;
  float *pdx, *pdh0, *pdc0, *pdW, *pdR, *pdb;
  if (!ct::poisoned_output(wdx.size(), kGuard, stream, &bdx, &pdx) || !ct::poisoned_output(wdh0.size(), kGuard, stream, &bdh0, &pdh0) ||
      !ct::poisoned_output(wdc0.size(), kGuard, stream, &bdc0, &pdc0) || !ct::poisoned_output(wdW.size(), kGuard, stream, &bdW, &pdW) ||
      !ct::poisoned_output(wdR.size(), kGuard, stream, &bdR, &pdR) || !ct::poisoned_output(wdb.size(), kGuard, stream, &bdb, &pdb))
    return;
  if (!ct::ok(cuda::rnn_backward(cfg, px, pW, pR, pmask, pdy, cs.with_grads ? pdhT : nullptr,
                                 cs.with_grads ? pdcT : nullptr, pws, pdx, pdh0,
                                 lstm ? pdc0 : nullptr, pdW, pdR, pdb, rm, stream),
              wh + " backward"))
    return;
  finish_output(pdx, wdx, stream, wh + " dx");
  finish_output(pdh0, wdh0, stream, wh + " dh0");
  if (lstm) finish_output(pdc0, wdc0, stream, wh + " dc0");
  finish_output(pdW, wdW, stream, wh + " dW");
  finish_output(pdR, wdR, stream, wh + " dR");
  finish_output(pdb, wdb, stream, wh + " db");
}

int run(const char* name) {
  if (!ct::device_or_skip(name)) return ct::kSkipExit;
  cudaStream_t stream = nullptr;
  if (!ct::ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return finish(name);

  using A = RnnActivation;
  struct CellAct {
    RnnCell cell;
    bool ra;
    A act, ract;
  };
  const CellAct cells[] = {
      {RnnCell::SimpleRNN, false, A::Tanh, A::Sigmoid},
      {RnnCell::SimpleRNN, false, A::Relu, A::Sigmoid},
      {RnnCell::LSTM, false, A::Tanh, A::Sigmoid},
      {RnnCell::LSTM, false, A::Linear, A::HardSigmoid},
      {RnnCell::LSTM, false, A::Tanh, A::HardSigmoidLegacy},
      {RnnCell::GRU, true, A::Tanh, A::Sigmoid},
      {RnnCell::GRU, false, A::Tanh, A::Sigmoid},
      {RnnCell::GRU, true, A::Relu, A::HardSigmoid},
      {RnnCell::GRU, false, A::Tanh, A::HardSigmoidLegacy},
  };
  struct Size {
    int64_t N, T, In, U;
  };
  const Size sizes[] = {{1, 1, 3, 1}, {3, 5, 7, 5}, {3, 5, 3, 33}, {1, 5, 7, 5}};
  int variant = 0;
  for (const CellAct& ca : cells) {
    // Every cell and activation pair: the plain case on two sizes, then the variants.
    for (int k = 0; k < 8; ++k) {
      Case c{};
      c.cell = ca.cell; c.reset_after = ca.ra; c.act = ca.act; c.ract = ca.ract;
      const Size& s = sizes[k % 4];
      c.N = s.N; c.T = s.T; c.In = s.In; c.U = s.U;
      c.go_backwards = (k == 2 || k == 5 || k == 7);
      c.masked = (k == 3 || k == 5 || k == 6 || k == 7);
      c.zero_out = (k == 6 || k == 7);
      c.with_h0 = (k != 0 && k != 6);
      c.with_rmask = (k == 4 || k == 5 || k == 7);
      c.with_grads = (k != 1);
      // The emulation runs every thread as a std::thread: there only the Keras defaults get the
      // variants with go_backwards, the mask and rmask together; the other pairs the first four
      // but the U = 33 one (the costliest to emulate, and these pairs' math is per element).
      if (ct::small_mode() && ca.ract != A::Sigmoid && (k >= 4 || k == 2)) continue;
      run_case(c, variant++, stream);
    }
  }
  ct::ok(cudaStreamSynchronize(stream), "final cudaStreamSynchronize");
  ct::ok(cudaStreamDestroy(stream), "cudaStreamDestroy");
  return finish(name);
}

}  // namespace rnn_test

#ifndef GF_CUDA_TEST_NO_MAIN
int main() { return rnn_test::run("test_cuda_rnn"); }
#endif

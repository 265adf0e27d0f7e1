// CUDA batch normalization (native/cuda/batchnorm.cu) against the textbook references in
// double (ref::batchnorm_* on double copies of the float inputs: two-pass moments, the chain
// rule through mean and variance written out): M = 1, 7, 33, 600, 1100 rows (one and several
// statistics row blocks, and a row block boundary inside the 8 lanes), C = 1, 3, 5, 17, 33
// (a partial and a second 32-channel chunk); gamma / beta given or null, moving statistics
// given or null; channels offset by up to +-100 with a spread of 0.01 .. 3 (the shifted sums
// must keep the variance accurate where mean^2 >> var); M = 0 (backward gradients 0).
// Outputs start as NaN with guard floats after them that must stay untouched; the moving
// statistics are updated in place. Each launcher runs twice and must give bit-identical
// results (no float atomics).
// Tolerances, from the float roundings the kernels make on top of double statistics:
//   y:        16 eps * (|a (x - x0)| + |a (mean - x0)| + |beta|), a = gamma * inv_std, x0 the
//             row-0 shift: the terms the float affine map adds.
//   mean:     2 eps |mean| + 2 eps std (a double sum of M terms, rounded once to float).
//   inv_std:  8 eps inv_std (the shifted double variance is exact to ~M eps_double).
//   moving:   4 eps (|moving| + |batch value|).
//   dbeta:    4 eps sum |dy|; dgamma: 8 eps sum |dy| (|x - mean| + |mean|) inv_std (the float
//             mean and inv_std passed in carry one rounding each).
//   dx:       32 eps * (|g is dy| + |b| (|x - mean| + |mean|) + |k|), the affine map's terms
//             (b = g is^2 dgamma / M, k = g is dbeta / M) with the float mean's rounding.
//   inference: 8 eps (|a (x - mm)| + |beta|); backward_inference dx 4 eps |dx|, dgamma,
//             dbeta 4 eps of the sums of magnitudes.
// No device: "SKIP: <reason>", exit 77. GF_CUDA_SMALL=1 (and the emulation): small shapes only.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cuda/batchnorm.h"
#include "cuda/testing.h"
#include "ref/ref.h"
#include "tests/test_util.h"

// GF_CUDA_EMULATED_TEST: also runs over the host emulation (test_cuda_emulated batchnorm).
namespace batchnorm_test {

using namespace gf;
using namespace gf::test;
namespace ct = gf::cuda::testing;

constexpr size_t kGuard = 8;
constexpr double kEps = 1e-3, kMomentum = 0.99;

std::vector<double> to_d(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

void same_bits(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  check(a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0),
        what + ": second run bit-identical");
}

void run_case(int64_t M, int64_t C, bool affine, bool moving, cudaStream_t stream) {
  char what[160];
  std::snprintf(what, sizeof what, "batchnorm M=%lld C=%lld%s%s", (long long)M, (long long)C,
                affine ? " gamma/beta" : " no gamma/beta", moving ? " moving" : "");
  const std::string base(what);
  const size_t n = static_cast<size_t>(M * C), nc = static_cast<size_t>(C);
  std::vector<float> x = random_vec<float>(n), dy = random_vec<float>(n);
  const std::vector<float> off = random_vec<float>(nc, -100.0, 100.0), spread = random_vec<float>(nc, 0.01, 3.0);
  for (size_t i = 0; i < n; ++i) x[i] = off[i % nc] * ((i % nc) % 2 == 0 ? 1.0f : 0.01f) + spread[i % nc] * x[i];
  const std::vector<float> gamma = random_vec<float>(nc, 0.5, 2.0), beta = random_vec<float>(nc);
  const std::vector<float> mm0 = random_vec<float>(nc), mv0 = random_vec<float>(nc, 0.5, 2.0);
  const std::vector<double> xd = to_d(x), dyd = to_d(dy), gd = to_d(gamma), bd = to_d(beta);
  const double* gp = affine ? gd.data() : nullptr;
  const double* bp = affine ? bd.data() : nullptr;

  cuda::DeviceBuffer bx, bdy, bg, bb, bmm, bmv, by, bmean, bis, bdx, bdg, bdb, bmm2, bmv2;
  float *px, *pdy, *pg, *pb, *pmm, *pmv, *py, *pmean, *pis, *pdx, *pdg, *pdb;
  if (!ct::upload(x, 0, 0, stream, &bx, &px) || !ct::upload(dy, 1, 0, stream, &bdy, &pdy) ||
      !ct::upload(gamma, 0, 0, stream, &bg, &pg) || !ct::upload(beta, 0, 0, stream, &bb, &pb) ||
      !ct::upload(mm0, 0, kGuard, stream, &bmm, &pmm) || !ct::upload(mv0, 0, kGuard, stream, &bmv, &pmv) ||
      !ct::poisoned_output(n, kGuard, stream, &by, &py) || !ct::poisoned_output(nc, kGuard, stream, &bmean, &pmean) || !ct::poisoned_output(nc, kGuard, stream, &bis, &pis) ||
      !ct::poisoned_output(n, kGuard, stream, &bdx, &pdx) || !ct::poisoned_output(nc, kGuard, stream, &bdg, &pdg) || !ct::poisoned_output(nc, kGuard, stream, &bdb, &pdb))
    return;
  const float* G = affine ? pg : nullptr;
  const float* B = affine ? pb : nullptr;

  // Training forward.
  std::vector<double> y(n), mean(nc), is(nc), mm = to_d(mm0), mv = to_d(mv0);
  ref::batchnorm_forward_train<double>(M, C, xd.data(), gp, bp, kEps, kMomentum, y.data(), mean.data(), is.data(),
                                       moving ? mm.data() : nullptr, moving ? mv.data() : nullptr);
  std::vector<float> got_y, got_mean, got_is, got_mm, got_mv;
  if (M > 0) {
    const std::string wh = base + ": batchnorm_forward_train";
    if (!ct::ok(cuda::batchnorm_forward_train(M, C, px, G, B, kEps, kMomentum, py, pmean, pis,
                                              moving ? pmm : nullptr, moving ? pmv : nullptr, stream),
                wh))
      return;
    std::vector<double> ty(n), tm(nc), ti(nc), tmm(nc), tmv(nc);
    for (size_t i = 0; i < n; ++i) {
      const size_t c = i % nc;
      const double a = (affine ? gd[c] : 1.0) * is[c], x0 = xd[c];
      ty[i] = 16 * eps<float>() * (std::fabs(a * (xd[i] - x0)) + std::fabs(a * (mean[c] - x0)) + (affine ? std::fabs(bd[c]) : 0.0)) + 1e-30;
    }
    for (size_t c = 0; c < nc; ++c) {
      const double sd = 1.0 / is[c];
      tm[c] = 2 * eps<float>() * (std::fabs(mean[c]) + sd);
      ti[c] = 8 * eps<float>() * is[c];
      tmm[c] = 4 * eps<float>() * (std::fabs(mm[c]) + std::fabs(mean[c]));
      tmv[c] = 4 * eps<float>() * (std::fabs(mv[c]) + sd * sd);
    }
    ct::expect_output(py, n, kGuard, y, ty, stream, wh + " y", &got_y);
    ct::expect_output(pmean, nc, kGuard, mean, tm, stream, wh + " mean", &got_mean);
    ct::expect_output(pis, nc, kGuard, is, ti, stream, wh + " inv_std", &got_is);
    if (moving) {
      ct::expect_output(pmm, nc, kGuard, mm, tmm, stream, wh + " moving_mean", &got_mm);
      ct::expect_output(pmv, nc, kGuard, mv, tmv, stream, wh + " moving_var", &got_mv);
    } else {  // untouched
      std::vector<float> a, b;
      if (ct::download(pmm, nc, stream, &a) && ct::download(pmv, nc, stream, &b)) {
        same_bits(a, mm0, wh + " moving_mean null: buffer untouched");
        same_bits(b, mv0, wh + " moving_var null: buffer untouched");
      }
    }
    // Again on the same inputs (moving statistics reset): identical bits.
    if (!ct::upload(mm0, 0, 0, stream, &bmm2, &pmm) || !ct::upload(mv0, 0, 0, stream, &bmv2, &pmv)) return;
    std::vector<float> y2, m2, i2, mm2, mv2;
    if (ct::ok(cuda::batchnorm_forward_train(M, C, px, G, B, kEps, kMomentum, py, pmean, pis, moving ? pmm : nullptr,
                                             moving ? pmv : nullptr, stream),
               wh + " (again)") &&
        ct::download(py, n, stream, &y2) && ct::download(pmean, nc, stream, &m2) && ct::download(pis, nc, stream, &i2)) {
      same_bits(y2, got_y, wh + " y");
      same_bits(m2, got_mean, wh + " mean");
      same_bits(i2, got_is, wh + " inv_std");
      if (moving && ct::download(pmm, nc, stream, &mm2) && ct::download(pmv, nc, stream, &mv2)) {
        same_bits(mm2, got_mm, wh + " moving_mean");
        same_bits(mv2, got_mv, wh + " moving_var");
      }
    }
  }

  // Training backward, from the float mean / inv_std the forward wrote (the reference
  // recomputes the statistics from x in double).
  {
    const std::string wh = base + ": batchnorm_backward";
    std::vector<double> dx(n), dg(nc), db(nc);
    if (M > 0) ref::batchnorm_backward<double>(M, C, xd.data(), dyd.data(), gp, kEps, dx.data(), dg.data(), db.data());
    std::vector<float> fmean = got_mean, fis = got_is;
    if (M == 0) fmean.assign(nc, 0.0f), fis.assign(nc, 1.0f);
    cuda::DeviceBuffer bm, bi;
    float *pm, *pi;
    if (!ct::upload(fmean, 0, 0, stream, &bm, &pm) || !ct::upload(fis, 0, 0, stream, &bi, &pi)) return;
    if (!ct::ok(cuda::batchnorm_backward(M, C, px, pdy, G, pm, pi, pdx, pdg, pdb, stream), wh)) return;
    std::vector<double> tdx(n), tdg(nc, 0.0), tdb(nc, 0.0), sdy(nc, 0.0), sdyx(nc, 0.0);
    for (size_t i = 0; i < n; ++i) {
      const size_t c = i % nc;
      sdy[c] += std::fabs(dyd[i]);
      sdyx[c] += std::fabs(dyd[i]) * (std::fabs(xd[i] - mean[c]) + std::fabs(mean[c])) * is[c];
    }
    for (size_t c = 0; c < nc; ++c) {
      tdb[c] = 4 * eps<float>() * sdy[c] + 1e-30;
      tdg[c] = 8 * eps<float>() * sdyx[c] + 1e-30;
    }
    for (size_t i = 0; i < n; ++i) {
      const size_t c = i % nc;
      const double gi = (affine ? gd[c] : 1.0) * is[c];
      const double b = gi * std::fabs(dg[c]) * is[c] / double(M), k = gi * std::fabs(db[c]) / double(M);
      tdx[i] = 32 * eps<float>() *
               (std::fabs(gi * dyd[i]) + b * (std::fabs(xd[i] - mean[c]) + std::fabs(mean[c])) + k +
                (gi / double(M)) * (sdy[c] + sdyx[c]));
    }
    std::vector<float> gx, gg, gb, gx2, gg2, gb2;
    if (M > 0) ct::expect_output(pdx, n, kGuard, dx, tdx, stream, wh + " dx", &gx);
    ct::expect_output(pdg, nc, kGuard, dg, tdg, stream, wh + " dgamma", &gg);
    ct::expect_output(pdb, nc, kGuard, db, tdb, stream, wh + " dbeta", &gb);
    if (M > 0 && ct::ok(cuda::batchnorm_backward(M, C, px, pdy, G, pm, pi, pdx, pdg, pdb, stream), wh + " (again)") &&
        ct::download(pdx, n, stream, &gx2) && ct::download(pdg, nc, stream, &gg2) && ct::download(pdb, nc, stream, &gb2)) {
      same_bits(gx2, gx, wh + " dx");
      same_bits(gg2, gg, wh + " dgamma");
      same_bits(gb2, gb, wh + " dbeta");
    }
    // Null dgamma / dbeta: dx alone.
    if (M > 0 && ct::ok(cuda::batchnorm_backward(M, C, px, pdy, G, pm, pi, pdx, nullptr, nullptr, stream),
                        wh + " (no dgamma/dbeta)") &&
        ct::download(pdx, n, stream, &gx2))
      same_bits(gx2, gx, wh + " dx without dgamma/dbeta");
  }

  // Inference forward and backward with the moving statistics.
  {
    const std::string wh = base + ": batchnorm_forward_inference";
    const std::vector<double> mmd = to_d(mm0), mvd = to_d(mv0);
    cuda::DeviceBuffer b1, b2;
    float *q1, *q2;
    if (!ct::upload(mm0, 0, 0, stream, &b1, &q1) || !ct::upload(mv0, 0, 0, stream, &b2, &q2)) return;
    std::vector<double> yi(n), ty(n);
    ref::batchnorm_forward_inference<double>(M, C, xd.data(), gp, bp, mmd.data(), mvd.data(), kEps, yi.data());
    for (size_t i = 0; i < n; ++i) {
      const size_t c = i % nc;
      const double a = (affine ? gd[c] : 1.0) / std::sqrt(mvd[c] + kEps);
      ty[i] = 8 * eps<float>() * (std::fabs(a * (xd[i] - mmd[c])) + (affine ? std::fabs(bd[c]) : 0.0)) + 1e-30;
    }
    std::vector<float> g;
    if (M > 0 && !ct::poisoned_output(n, kGuard, stream, &by, &py)) return;
    if (ct::ok(cuda::batchnorm_forward_inference(M, C, px, G, B, q1, q2, kEps, py, stream), wh) && M > 0)
      ct::expect_output(py, n, kGuard, yi, ty, stream, wh, &g);

    const std::string wb = base + ": batchnorm_backward_inference";
    std::vector<double> dx(n), dg(nc), db(nc), tdx(n), tdg(nc, 0.0), tdb(nc, 0.0);
    ref::batchnorm_backward_inference<double>(M, C, xd.data(), dyd.data(), gp, mmd.data(), mvd.data(), kEps, dx.data(),
                                              dg.data(), db.data());
    if (M == 0) std::fill(dg.begin(), dg.end(), 0.0), std::fill(db.begin(), db.end(), 0.0);
    for (size_t i = 0; i < n; ++i) {
      const size_t c = i % nc;
      const double sd = std::sqrt(mvd[c] + kEps);
      tdx[i] = 4 * eps<float>() * std::fabs(dx[i]) + 1e-30;
      tdg[c] += 4 * eps<float>() * std::fabs(dyd[i] * (xd[i] - mmd[c]) / sd);
      tdb[c] += 4 * eps<float>() * std::fabs(dyd[i]);
    }
    for (size_t c = 0; c < nc; ++c) tdg[c] += 1e-30, tdb[c] += 1e-30;
    if (!ct::poisoned_output(n, kGuard, stream, &bdx, &pdx) || !ct::poisoned_output(nc, kGuard, stream, &bdg, &pdg) || !ct::poisoned_output(nc, kGuard, stream, &bdb, &pdb)) return;
    if (ct::ok(cuda::batchnorm_backward_inference(M, C, px, pdy, G, q1, q2, kEps, pdx, pdg, pdb, stream), wb)) {
      std::vector<float> a, b, d;
      if (M > 0) ct::expect_output(pdx, n, kGuard, dx, tdx, stream, wb + " dx", &a);
      ct::expect_output(pdg, nc, kGuard, dg, tdg, stream, wb + " dgamma", &b);
      ct::expect_output(pdb, nc, kGuard, db, tdb, stream, wb + " dbeta", &d);
    }
  }
}

int run(const char* name) {
  if (!ct::device_or_skip(name)) return ct::kSkipExit;
  const bool small = ct::small_mode();
  cudaStream_t stream = nullptr;
  if (!ct::ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return finish(name);

  std::vector<int64_t> Ms = {1, 7, 33, 600, 1100};
  if (!small) Ms.push_back(300000);
  int idx = 0;
  for (int64_t M : Ms)
    for (int64_t C : {int64_t(1), int64_t(3), int64_t(5), int64_t(17), int64_t(33)}) {
      run_case(M, C, idx % 2 == 0, idx % 3 != 1, stream);
      ++idx;
    }
  run_case(0, 5, true, true, stream);
  run_case(0, 3, false, false, stream);
  if (!small) run_case(50000, 256, true, true, stream);
  check(cuda::batchnorm_forward_train(0, 3, nullptr, nullptr, nullptr, kEps, kMomentum, nullptr, nullptr, nullptr,
                                      nullptr, nullptr, stream) == cudaSuccess,
        "M = 0 forward does nothing");

  ct::ok(cudaStreamSynchronize(stream), "final cudaStreamSynchronize");
  ct::ok(cudaStreamDestroy(stream), "cudaStreamDestroy");
  return finish(name);
}

}  // namespace batchnorm_test

#ifndef GF_CUDA_TEST_NO_MAIN
int main() { return batchnorm_test::run("test_cuda_batchnorm"); }
#endif

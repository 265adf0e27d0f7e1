// CUDA fused softmax cross-entropy (native/cuda/loss.cu) against a double-precision host
// implementation of cuda/loss.h's definition (below: ref_xent), sparse (int32 labels) and
// categorical (one-hot rows, soft probability rows, an all-zero target row), forward loss and
// backward gradient with an upstream per-row gradient (and with g = null: 1). Rows and
// classes 1, 7, 9 x 1, 7, 33, 100, 1000 (warp kernel), 1025, 4097 (block kernel); logits in
// [-5, 5], some rows offset by +-100 (an unstable kernel overflows exp there), rows holding
// NaN, +Inf, only -Inf (NaN loss and gradient, as the CPU softmax), some -Inf (target 0
// there: no cost; a label on one: +Inf loss, finite gradient), a label out of range (NaN row).
// Outputs NaN-poisoned with guard floats after them, the gradient also in place over x.
// Tolerances: the kernel's float row sums have relative error ~ (classes / 32 + 16) eps (as
// test_cuda_softmax.cu), which log(s) turns into an absolute error; per row the loss gets
// sum_rel * (T + sum |t (x - max)|) + 4 eps |loss| and the gradient
// |g| * (sum_rel + 4 eps) * (T + 1) absolute (it is g * (p T - t) with p off by sum_rel).
// No device: "SKIP: <reason>", exit 77. GF_CUDA_SMALL=1: small shapes.
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "cuda/loss.h"
#include "cuda/testing.h"
#include "tests/test_util.h"

// GF_CUDA_EMULATED_TEST: also runs over the host emulation (test_cuda_emulated loss).
namespace loss_test {

using namespace gf;
using namespace gf::test;
namespace ct = gf::cuda::testing;

constexpr size_t kGuard = 8;
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

struct Case {
  int64_t rows, classes;
  std::vector<float> x, t, g;    // t: (rows, classes) targets (the one-hot of labels when sparse)
  std::vector<int32_t> labels;   // sparse only
};

Case make_case(int64_t rows, int64_t classes, bool sparse) {
  Case c{rows, classes, random_vec<float>(static_cast<size_t>(rows * classes), -5.0, 5.0),
         std::vector<float>(static_cast<size_t>(rows * classes), 0.0f), random_vec<float>(static_cast<size_t>(rows), -2.0, 2.0),
         std::vector<int32_t>(static_cast<size_t>(rows), 0)};
  std::mt19937_64& r = rng();
  for (int64_t i = 0; i < rows; ++i) {
    float* xr = c.x.data() + i * classes;
    float* tr = c.t.data() + i * classes;
    const int kind = static_cast<int>(i % 7);
    if (kind == 1 || kind == 2)
      for (int64_t j = 0; j < classes; ++j) xr[j] += kind == 1 ? 100.0f : -100.0f;
    if (classes >= 3) {
      if (kind == 3) xr[classes / 2] = kNaN;
      if (kind == 4) xr[classes - 1] = kInf;
      if (kind == 5)
        for (int64_t j = 0; j < classes; ++j) xr[j] = -kInf;
      if (kind == 6)
        for (int64_t j = 0; j < classes; j += 3) xr[j] = -kInf;
    }
    // The class: random, but off the -Inf logits of a kind-6 row (except row 6, sparse: on one).
    int64_t hot = static_cast<int64_t>(r() % static_cast<uint64_t>(classes));
    if (kind == 6 && classes >= 3) hot = (sparse && i == 6) ? 0 : (hot % 3 == 0 ? hot + 1 < classes ? hot + 1 : hot - 1 : hot);
    if (sparse) {
      c.labels[i] = static_cast<int32_t>(hot);
      if (i == 8) c.labels[i] = static_cast<int32_t>(classes);  // out of range
      if (c.labels[i] >= 0 && c.labels[i] < classes) tr[c.labels[i]] = 1.0f;
      continue;
    }
    const int tkind = static_cast<int>(i % 3);
    if (i == 8) continue;  // all-zero targets: loss 0 (unless the row is bad), gradient 0
    if (tkind != 1) {
      tr[hot] = 1.0f;
    } else {  // soft targets, 0 where the logit is -Inf
      double s = 0;
      for (int64_t j = 0; j < classes; ++j) {
        tr[j] = (kind == 6 && classes >= 3 && j % 3 == 0) ? 0.0f : static_cast<float>((r() % 1000) + 1);
        s += tr[j];
      }
      for (int64_t j = 0; j < classes; ++j) tr[j] = static_cast<float>(tr[j] / s);
    }
  }
  return c;
}

// cuda/loss.h's definition in double. Fills loss (rows), dx (rows, classes) and the per-row
// tolerances of each (see the header comment).
void ref_xent(const Case& c, bool sparse, bool with_g, std::vector<double>* loss, std::vector<double>* dx,
              std::vector<double>* loss_tol, std::vector<double>* dx_tol) {
  const int64_t R = c.rows, C = c.classes;
  loss->assign(R, 0);
  dx->assign(R * C, 0);
  loss_tol->assign(R, 0);
  dx_tol->assign(R, 0);
  const double sum_rel = 2.0 * (double(C) / 32.0 + 16.0) * eps<float>();
  for (int64_t i = 0; i < R; ++i) {
    const float* xr = c.x.data() + i * C;
    const float* tr = c.t.data() + i * C;
    bool bad = sparse && (c.labels[i] < 0 || c.labels[i] >= C);
    bool all_neg_inf = true;
    for (int64_t j = 0; j < C; ++j) {
      if (std::isnan(xr[j]) || xr[j] == kInf) bad = true;
      if (xr[j] != -kInf) all_neg_inf = false;
    }
    bad = bad || all_neg_inf;
    const double g = with_g ? c.g[i] : 1.0;
    if (bad) {
      (*loss)[i] = NAN;
      for (int64_t j = 0; j < C; ++j) (*dx)[i * C + j] = NAN;
      continue;
    }
    double mx = -INFINITY;
    for (int64_t j = 0; j < C; ++j) mx = std::fmax(mx, xr[j]);
    double s = 0, T = 0, tz = 0, atz = 0;
    for (int64_t j = 0; j < C; ++j) {
      s += std::exp(double(xr[j]) - mx);
      T += tr[j];
      if (tr[j] != 0) {
        tz += tr[j] * (double(xr[j]) - mx);
        atz += std::fabs(tr[j] * (double(xr[j]) - mx));
      }
    }
    (*loss)[i] = std::log(s) * T - tz;
    (*loss_tol)[i] = sum_rel * (T + atz) + 4 * eps<float>() * std::fabs((*loss)[i]);
    for (int64_t j = 0; j < C; ++j) (*dx)[i * C + j] = g * (std::exp(double(xr[j]) - mx) / s * T - tr[j]);
    (*dx_tol)[i] = std::fabs(g) * (sum_rel + 4 * eps<float>()) * (T + 1);
  }
}

// got against want with a tolerance per row (cols values a row); reports the first mismatch.
void compare_rows(const std::vector<float>& got, const std::vector<double>& want, const std::vector<double>& tol,
                  int64_t cols, const std::string& what) {
  ++checks();
  for (size_t k = 0; k < want.size(); ++k)
    if (!close(got[k], want[k], tol[k / cols], 0.0)) {
      char buf[200];
      std::snprintf(buf, sizeof buf, " at [%zu] (row %lld): got %.9g want %.9g (atol %.3g)", k, (long long)(k / cols),
                    double(got[k]), want[k], tol[k / cols]);
      fail(what + buf);
      return;
    }
}

void check_case(int64_t rows, int64_t classes, bool sparse, bool inplace, cudaStream_t stream) {
  const Case c = make_case(rows, classes, sparse);
  const bool with_g = (rows + classes) % 2 == 1;
  std::vector<double> want_loss, want_dx, loss_tol, dx_tol;
  ref_xent(c, sparse, with_g, &want_loss, &want_dx, &loss_tol, &dx_tol);
  const size_t n = static_cast<size_t>(rows * classes);
  char what[160];
  std::snprintf(what, sizeof what, "cuda::%ssoftmax_xent rows=%lld classes=%lld g=%s", sparse ? "sparse_" : "",
                (long long)rows, (long long)classes, with_g ? "given" : "null");
  cuda::DeviceBuffer bx, bt, bg, bl, bloss, bdx;
  float *dxin = nullptr, *dt = nullptr, *dg = nullptr, *dloss = nullptr, *ddx = nullptr;
  int32_t* dlabels = nullptr;
  if (!ct::upload(c.x, 1, kGuard, stream, &bx, &dxin) || !ct::upload(c.t, 0, 0, stream, &bt, &dt) ||
      !ct::upload(c.g, 0, 0, stream, &bg, &dg) ||
      !ct::upload(std::vector<float>(rows, kNaN), 0, kGuard, stream, &bloss, &dloss))
    return;
  if (!ct::ok(bl.allocate(rows * sizeof(int32_t), stream), "allocate labels") ||
      !ct::ok(cudaMemcpyAsync(bl.get(), c.labels.data(), rows * sizeof(int32_t), cudaMemcpyHostToDevice, stream), "H2D"))
    return;
  dlabels = bl.as<int32_t>();
  const cudaError_t ef = sparse ? cuda::sparse_softmax_xent_forward(dxin, dlabels, rows, classes, dloss, stream)
                                : cuda::softmax_xent_forward(dxin, dt, rows, classes, dloss, stream);
  if (!ct::ok(ef, std::string(what) + " forward")) return;
  std::vector<float> got;
  if (!ct::download(dloss, rows, stream, &got)) return;
  compare_rows(got, want_loss, loss_tol, 1, std::string(what) + " forward loss");
  ct::guard_intact(dloss, rows, kGuard, stream, std::string(what) + " forward (guard)");

  if (inplace) ddx = dxin;
  else if (!ct::upload(std::vector<float>(n, kNaN), 0, kGuard, stream, &bdx, &ddx)) return;
  const float* gp = with_g ? dg : nullptr;
  const cudaError_t eb = sparse ? cuda::sparse_softmax_xent_backward(dxin, dlabels, gp, rows, classes, ddx, stream)
                                : cuda::softmax_xent_backward(dxin, dt, gp, rows, classes, ddx, stream);
  const std::string wb = std::string(what) + " backward" + (inplace ? " in place" : "");
  if (!ct::ok(eb, wb)) return;
  if (!ct::download(ddx, n, stream, &got)) return;
  compare_rows(got, want_dx, dx_tol, classes, wb);
  ct::guard_intact(ddx, n, kGuard, stream, wb + " (guard)");
}

int run(const char* name) {
  if (!ct::device_or_skip(name)) return ct::kSkipExit;
  const bool small = ct::small_mode();
  cudaStream_t stream = nullptr;
  if (!ct::ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return finish(name);

  const std::vector<int64_t> rows = small ? std::vector<int64_t>{1, 7, 9} : std::vector<int64_t>{1, 7, 9, 33, 1000};
  const std::vector<int64_t> classes = small ? std::vector<int64_t>{1, 7, 33, 100, 1000, 1025, 4097}
                                             : std::vector<int64_t>{1, 2, 7, 32, 33, 100, 1000, 1024, 1025, 4097, 30000};
  int idx = 0;
  for (int64_t r : rows)
    for (int64_t c : classes) {
      for (int sparse = 0; sparse < 2; ++sparse) check_case(r, c, sparse != 0, idx % 3 == 1, stream);
      ++idx;
    }
  if (!small) {
    check_case(70000, 10, true, false, stream);   // more rows than the grid: strided
    check_case(300000, 3, false, false, stream);
  }
  check(cuda::softmax_xent_forward(nullptr, nullptr, 0, 10, nullptr, stream) == cudaSuccess, "rows = 0 does nothing");
  check(cuda::sparse_softmax_xent_backward(nullptr, nullptr, nullptr, 10, 0, nullptr, stream) == cudaSuccess,
        "classes = 0 does nothing");

  ct::ok(cudaStreamSynchronize(stream), "final cudaStreamSynchronize");
  ct::ok(cudaStreamDestroy(stream), "cudaStreamDestroy");
  return finish(name);
}

}  // namespace loss_test

#ifndef GF_CUDA_TEST_NO_MAIN
int main() { return loss_test::run("test_cuda_loss"); }
#endif

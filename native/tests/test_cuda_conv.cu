// CUDA conv2d (native/cuda/conv.cu) against the direct-loop references (ref::conv2d_*, double
// accumulation over float data): channels 1, 3, 5, 17 in and out (and 33, 65 out: the tiled
// GEMM paths), kernels 1x1 (the pointwise path with no im2col, and strided 1x1 through it),
// 3x3, 5x5, 2x3, strides 1 and 2, dilation 2, 'valid' and 'same' padding (TF's rule:
// same_padding), batch 1 and 3, N = 0; forward with and without bias and relu. Every case also
// runs with the im2col workspace limited to a few rows (set_conv_workspace_limit), so chunks
// split images mid-row: the col2im "first chunk writes, later chunks add" and the filter
// gradient's beta = 1 accumulation are exercised. Outputs start as NaN (an element not written
// fails) with guard floats after them that must stay untouched.
// Tolerance per element: 2 (T + 2) eps * (the same sum over |operands|, from the reference run
// on |x|, |w|, |dy|), T the number of terms summed (the GEMM's inner size; for the filter
// gradient every output row of the batch), the gemm test's bound for float FMA sums in any
// order; plus 2 eps |y| for the bias add. The bias gradient is summed in double: 4 eps of the
// sum of |dy|.
// No device: "SKIP: <reason>", exit 77. GF_CUDA_SMALL=1 (and the emulation): small shapes only.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "cpu/conv.h"
#include "cuda/conv.h"
#include "cuda/testing.h"
#include "ref/ref.h"
#include "tests/test_util.h"

// GF_CUDA_EMULATED_TEST: also runs over the host emulation (test_cuda_emulated conv).
namespace conv_test {

using namespace gf;
using namespace gf::test;
namespace ct = gf::cuda::testing;

constexpr size_t kGuard = 8;

struct Case {
  int64_t N, H, W, C, KH, KW, O, sh, sw, dh, dw;
  bool same;
};

Conv2dShape shape_of(const Case& c) {
  Conv2dShape s{};
  s.N = c.N; s.H = c.H; s.W = c.W; s.C = c.C;
  s.KH = c.KH; s.KW = c.KW; s.O = c.O;
  s.sh = c.sh; s.sw = c.sw; s.dh = c.dh; s.dw = c.dw;
  int64_t pt = 0, pb = 0, pl = 0, pr = 0;
  if (c.same) {
    same_padding(c.H, c.KH, c.sh, c.dh, &pt, &pb);
    same_padding(c.W, c.KW, c.sw, c.dw, &pl, &pr);
  }
  s.pad_top = pt;
  s.pad_left = pl;
  s.OH = conv_output_size(c.H, c.KH, c.sh, c.dh, pt, pb);
  s.OW = conv_output_size(c.W, c.KW, c.sw, c.dw, pl, pr);
  return s;
}

std::vector<float> absv(const std::vector<float>& v) {
  std::vector<float> a(v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = std::fabs(v[i]);
  return a;
}

void run_case(const Case& cs, int variant, cudaStream_t stream, const char* tag) {
  const Conv2dShape s = shape_of(cs);
  const size_t nx = static_cast<size_t>(s.N * s.H * s.W * s.C), nw = static_cast<size_t>(s.KH * s.KW * s.C * s.O);
  const size_t ny = static_cast<size_t>(s.N * s.OH * s.OW * s.O);
  const int64_t K = s.KH * s.KW * s.C, R = s.N * s.OH * s.OW;
  char what[200];
  std::snprintf(what, sizeof what,
                "conv N=%lld H=%lld W=%lld C=%lld k=%lldx%lld O=%lld s=%lld,%lld d=%lld,%lld %s%s",
                (long long)s.N, (long long)s.H, (long long)s.W, (long long)s.C, (long long)s.KH, (long long)s.KW,
                (long long)s.O, (long long)s.sh, (long long)s.sw, (long long)s.dh, (long long)s.dw,
                cs.same ? "same" : "valid", tag);
  const std::string base(what);
  const std::vector<float> x = random_vec<float>(nx), w = random_vec<float>(nw), dy = random_vec<float>(ny);
  const std::vector<float> bias = random_vec<float>(static_cast<size_t>(s.O));
  const std::vector<float> ax = absv(x), aw = absv(w), ady = absv(dy), abias = absv(bias);
  const bool use_bias = variant % 2 == 0, relu = variant % 3 != 0;

  cuda::DeviceBuffer bx, bw, bdy, bb, by, bdx, bdw, bdb;
  float *px, *pw, *pdy, *pb, *py, *pdx, *pdw, *pdb;
  if (!ct::upload(x, 0, 0, stream, &bx, &px) || !ct::upload(w, 1, 0, stream, &bw, &pw) ||
      !ct::upload(dy, 0, 0, stream, &bdy, &pdy) || !ct::upload(bias, 0, 0, stream, &bb, &pb))
    return;

  {  // forward
    std::vector<float> want(ny), mag(ny);
    ref::conv2d_forward<float>(s, x.data(), w.data(), use_bias ? bias.data() : nullptr, want.data());
    ref::conv2d_forward<float>(s, ax.data(), aw.data(), use_bias ? abias.data() : nullptr, mag.data());
    std::vector<double> tol(ny);
    for (size_t i = 0; i < ny; ++i) {
      tol[i] = 2.0 * (K + 2) * eps<float>() * mag[i] + 2 * eps<float>() * std::fabs(want[i]) + 1e-30;
      if (relu && want[i] < 0) want[i] = 0.0f;
    }
    if (!ct::poisoned_output(ny, kGuard, stream, &by, &py)) return;
    const std::string wh = base + (use_bias ? " bias" : "") + (relu ? " relu" : "") + ": conv2d_forward";
    if (ct::ok(cuda::conv2d_forward(s, px, pw, use_bias ? pb : nullptr, py,
                                    relu ? GemmActivation::Relu : GemmActivation::Linear, stream),
               wh))
      ct::expect_output(py, ny, kGuard, want, tol, stream, wh);
  }
  {  // input gradient
    std::vector<float> want(nx), mag(nx);
    ref::conv2d_backward_input<float>(s, dy.data(), w.data(), want.data());
    ref::conv2d_backward_input<float>(s, ady.data(), aw.data(), mag.data());
    std::vector<double> tol(nx);
    for (size_t i = 0; i < nx; ++i) tol[i] = 2.0 * (s.O * s.KH * s.KW + 2) * eps<float>() * mag[i] + 1e-30;
    if (!ct::poisoned_output(nx, kGuard, stream, &bdx, &pdx)) return;
    const std::string wh = base + ": conv2d_backward_input";
    if (ct::ok(cuda::conv2d_backward_input(s, pdy, pw, pdx, stream), wh)) ct::expect_output(pdx, nx, kGuard, want, tol, stream, wh);
  }
  {  // filter and bias gradients
    std::vector<float> want(nw), mag(nw), wantb(static_cast<size_t>(s.O)), magb(static_cast<size_t>(s.O));
    ref::conv2d_backward_filter<float>(s, x.data(), dy.data(), want.data(), wantb.data());
    ref::conv2d_backward_filter<float>(s, ax.data(), ady.data(), mag.data(), magb.data());
    std::vector<double> tol(nw), tolb(static_cast<size_t>(s.O));
    for (size_t i = 0; i < nw; ++i) tol[i] = 2.0 * (R + 2) * eps<float>() * mag[i] + 1e-30;
    for (size_t i = 0; i < tolb.size(); ++i) tolb[i] = 4 * eps<float>() * magb[i] + 1e-30;
    if (!ct::poisoned_output(nw, kGuard, stream, &bdw, &pdw) || !ct::poisoned_output(static_cast<size_t>(s.O), kGuard, stream, &bdb, &pdb)) return;
    const bool with_db = variant % 4 != 3;
    const std::string wh = base + ": conv2d_backward_filter";
    if (ct::ok(cuda::conv2d_backward_filter(s, px, pdy, pdw, with_db ? pdb : nullptr, stream), wh)) {
      ct::expect_output(pdw, nw, kGuard, want, tol, stream, wh + " dw");
      if (with_db) ct::expect_output(pdb, static_cast<size_t>(s.O), kGuard, wantb, tolb, stream, wh + " dbias");
    }
  }
}

int run(const char* name) {
  if (!ct::device_or_skip(name)) return ct::kSkipExit;
  const bool small = ct::small_mode();
  cudaStream_t stream = nullptr;
  if (!ct::ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return finish(name);

  //              N  H  W   C  KH KW  O  sh sw dh dw same
  std::vector<Case> cases = {
      {1, 5, 6, 1, 3, 3, 1, 1, 1, 1, 1, false},
      {3, 7, 5, 3, 3, 3, 5, 2, 2, 1, 1, true},
      {1, 6, 7, 5, 5, 5, 17, 1, 1, 1, 1, true},
      {3, 5, 8, 17, 2, 3, 3, 2, 2, 1, 1, false},
      {3, 4, 5, 3, 1, 1, 5, 1, 1, 1, 1, false},   // pointwise: no im2col
      {1, 5, 5, 3, 1, 1, 4, 2, 2, 1, 1, false},   // strided 1x1: im2col
      {1, 7, 7, 3, 3, 3, 2, 1, 1, 2, 2, true},    // dilation
      {1, 6, 5, 5, 2, 3, 3, 2, 1, 1, 1, true},    // even kernel, 'same' pads after
      {1, 8, 9, 3, 3, 3, 33, 1, 1, 1, 1, true},   // R = 72, O = 33: tiled GEMM edges
      {1, 5, 5, 1, 5, 5, 17, 1, 1, 1, 1, false},  // OH = OW = 1
      {0, 5, 5, 3, 3, 3, 4, 1, 1, 1, 1, true},    // empty batch: dw = dbias = 0
  };
  if (!small) {
    cases.push_back({3, 32, 31, 17, 3, 3, 65, 1, 1, 1, 1, true});
    cases.push_back({3, 33, 35, 5, 5, 5, 64, 2, 2, 1, 1, true});
    cases.push_back({2, 64, 64, 16, 3, 3, 129, 1, 1, 1, 1, true});
    cases.push_back({3, 28, 28, 32, 1, 1, 64, 1, 1, 1, 1, false});
  }
  int variant = 0;
  for (const Case& c : cases) run_case(c, variant++, stream, "");
  // The same shapes with a workspace of 7 rows: several chunks per image, chunk boundaries
  // mid-row, images shared between chunks.
  const size_t saved = cuda::conv_workspace_limit();
  for (const Case& c : cases) {
    if (c.N * c.H > 200) continue;
    cuda::set_conv_workspace_limit(static_cast<size_t>(7 * c.KH * c.KW * c.C) * sizeof(float));
    run_case(c, variant++, stream, " (7-row chunks)");
  }
  cuda::set_conv_workspace_limit(1);  // below one row: still one row per chunk
  run_case(cases[1], variant++, stream, " (1-row chunks)");
  cuda::set_conv_workspace_limit(saved);
  check(cuda::conv_workspace_limit() == saved, "workspace limit restored");

  ct::ok(cudaStreamSynchronize(stream), "final cudaStreamSynchronize");
  ct::ok(cudaStreamDestroy(stream), "cudaStreamDestroy");
  return finish(name);
}

}  // namespace conv_test

#ifndef GF_CUDA_TEST_NO_MAIN
int main() { return conv_test::run("test_cuda_conv"); }
#endif

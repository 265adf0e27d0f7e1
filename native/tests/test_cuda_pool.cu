// CUDA pooling and upsampling (native/cuda/pool.cu) against the direct-loop references
// (ref::*pool2d_*, ref::upsampling2d_*, double accumulation) and, for argmax, the contract of
// native/cpu/pool.h written out here as an oracle (first max in (kh, kw) order, the first NaN
// wins, -1 for a window covering nothing): channels 1, 3, 5, 17, windows 2x2, 3x3, 2x3, 5x5
// (larger than the image), strides 1 and 2 (overlapping and disjoint windows), 'valid' and
// 'same' padding, an explicit pad so large that some windows cover no input (-Inf / -1 / 0),
// batch 1 and 3. Inputs are quantised to 9 levels so windows hold ties (the tie rule is
// checked), and every shape runs again with 1 in 6 inputs NaN. The max-pool backward also
// runs with argmax entries corrupted to -1, H*W and 1e9 (skipped, as on the CPU). Global
// pooling: HW 1, 7, 33, 70; upsampling: all three modes, factors 1, 2, 3, H, W 1, 3, 5.
// Outputs start as NaN (argmax as -1 bits) with guard elements after them that must stay.
// Tolerances: max pooling and nearest upsampling forward are exact (selection, copy); the
// max-pool backward sums the few dy of windows sharing an argmax: (T + 1) eps * sum |dy|
// with T the windows covering a pixel (KH*KW bounds it); average pooling: (KH*KW + 2) eps
// times the window's sum of |x| (float sum, then one multiply); global average: double sums,
// 4 eps; bilinear: each output is 3 lerps of float products, 16 eps * max |x|, and its
// backward a float sum of up to 4 (2 sh + 2) (2 sw + 2) weighted terms: (terms + 2) eps times
// the sum of |dy| weights, bounded by the reference run on |dy|.
// No device: "SKIP: <reason>", exit 77. GF_CUDA_SMALL=1 (and the emulation): small shapes only.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cpu/conv.h"
#include "cuda/pool.h"
#include "cuda/testing.h"
#include "ref/ref.h"
#include "tests/test_util.h"

// GF_CUDA_EMULATED_TEST: also runs over the host emulation (test_cuda_emulated pool).
namespace pool_test {

using namespace gf;
using namespace gf::test;
namespace ct = gf::cuda::testing;

constexpr size_t kGuard = 8;
const float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<float> absv(const std::vector<float>& v) {
  std::vector<float> a(v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = std::fabs(v[i]);
  return a;
}

// Values in {-1, -0.75, ..., 1} (ties in most windows), every 6th NaN when nans.
std::vector<float> inputs(size_t n, bool nans) {
  std::vector<float> x = random_vec<float>(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = std::round(x[i] * 4.0f) / 4.0f;
    if (nans && (i * 7 + 3) % 6 == 0) x[i] = kNaN;
  }
  return x;
}

// An int32 device array of n entries (+ guard), every byte 0xFF (-1); h copied in when given.
bool index_buffer(size_t n, const std::vector<int32_t>* h, cudaStream_t stream, cuda::DeviceBuffer* buf,
                  int32_t** p) {
  if (!ct::ok(buf->allocate((n + kGuard) * sizeof(int32_t), stream), "allocate")) return false;
  *p = buf->as<int32_t>();
  if (!ct::ok(cudaMemsetAsync(*p, 0xFF, (n + kGuard) * sizeof(int32_t), stream), "cudaMemsetAsync")) return false;
  if (h && n &&
      !ct::ok(cudaMemcpyAsync(*p, h->data(), n * sizeof(int32_t), cudaMemcpyHostToDevice, stream), "H2D"))
    return false;
  return true;
}

bool download_index(const int32_t* p, size_t n, cudaStream_t stream, std::vector<int32_t>* h) {
  h->assign(n, 0);
  if (n && !ct::ok(cudaMemcpyAsync(h->data(), p, n * sizeof(int32_t), cudaMemcpyDeviceToHost, stream), "D2H"))
    return false;
  return ct::ok(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
}

void compare_index(const std::vector<int32_t>& got, const std::vector<int32_t>& want, const std::string& what) {
  ++checks();
  for (size_t i = 0; i < want.size(); ++i)
    if (got[i] != want[i]) {
      fail(what + " at [" + std::to_string(i) + "]: got " + std::to_string(got[i]) + " want " +
           std::to_string(want[i]));
      return;
    }
}

// pool.h's argmax contract, sequentially.
std::vector<int32_t> argmax_oracle(const Pool2dShape& s, const std::vector<float>& x) {
  std::vector<int32_t> a(static_cast<size_t>(s.N * s.OH * s.OW * s.C), -1);
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow)
        for (int64_t c = 0; c < s.C; ++c) {
          int32_t at = -1;
          float best = 0;
          for (int64_t kh = 0; kh < s.KH; ++kh)
            for (int64_t kw = 0; kw < s.KW; ++kw) {
              const int64_t ih = oh * s.sh - s.pad_top + kh, iw = ow * s.sw - s.pad_left + kw;
              if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
              const float v = x[((n * s.H + ih) * s.W + iw) * s.C + c];
              if (at < 0 || (!std::isnan(best) && (std::isnan(v) || v > best))) {
                at = static_cast<int32_t>(ih * s.W + iw);
                best = v;
              }
            }
          a[((n * s.OH + oh) * s.OW + ow) * s.C + c] = at;
        }
  return a;
}

// dx from dy through an argmax (entries outside [0, H*W) skipped), in double.
std::vector<float> scatter_oracle(const Pool2dShape& s, const std::vector<float>& dy, const std::vector<int32_t>& a,
                                  std::vector<double>* mag) {
  std::vector<double> acc(static_cast<size_t>(s.N * s.H * s.W * s.C), 0.0), m(acc.size(), 0.0);
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t p = 0; p < s.OH * s.OW; ++p)
      for (int64_t c = 0; c < s.C; ++c) {
        const size_t o = static_cast<size_t>((n * s.OH * s.OW + p) * s.C + c);
        if (a[o] < 0 || a[o] >= s.H * s.W) continue;
        const size_t i = static_cast<size_t>((n * s.H * s.W + a[o]) * s.C + c);
        acc[i] += dy[o];
        m[i] += std::fabs(dy[o]);
      }
  *mag = m;
  return std::vector<float>(acc.begin(), acc.end());
}

struct PoolCase {
  int64_t N, H, W, C, KH, KW, sh, sw;
  int pad;  // 0 valid, 1 same, 2: explicit pads of KH, KW (windows covering nothing)
};

Pool2dShape pool_shape(const PoolCase& c) {
  Pool2dShape s{};
  s.N = c.N; s.H = c.H; s.W = c.W; s.C = c.C; s.KH = c.KH; s.KW = c.KW; s.sh = c.sh; s.sw = c.sw;
  int64_t pt = 0, pb = 0, pl = 0, pr = 0;
  if (c.pad == 1) {
    same_padding(c.H, c.KH, c.sh, 1, &pt, &pb);
    same_padding(c.W, c.KW, c.sw, 1, &pl, &pr);
  } else if (c.pad == 2) {
    pt = c.KH; pl = c.KW; pb = 1; pr = 0;
  }
  s.pad_top = pt;
  s.pad_left = pl;
  s.OH = conv_output_size(c.H, c.KH, c.sh, 1, pt, pb);
  s.OW = conv_output_size(c.W, c.KW, c.sw, 1, pl, pr);
  return s;
}

void run_pool(const PoolCase& pc, bool nans, cudaStream_t stream) {
  const Pool2dShape s = pool_shape(pc);
  const size_t nx = static_cast<size_t>(s.N * s.H * s.W * s.C), ny = static_cast<size_t>(s.N * s.OH * s.OW * s.C);
  char what[200];
  std::snprintf(what, sizeof what, "pool N=%lld H=%lld W=%lld C=%lld k=%lldx%lld s=%lld,%lld pads=%lld,%lld%s",
                (long long)s.N, (long long)s.H, (long long)s.W, (long long)s.C, (long long)s.KH, (long long)s.KW,
                (long long)s.sh, (long long)s.sw, (long long)s.pad_top, (long long)s.pad_left,
                nans ? " NaN inputs" : "");
  const std::string base(what);
  const std::vector<float> x = inputs(nx, nans), dy = random_vec<float>(ny);
  cuda::DeviceBuffer bx, bdy, by, by2, ba, bdx, bbad, bdx2;
  float *px, *pdy, *py, *py2, *pdx, *pdx2;
  int32_t *pa, *pbad;
  if (!ct::upload(x, 0, 0, stream, &bx, &px) || !ct::upload(dy, 0, 0, stream, &bdy, &pdy)) return;
  const std::vector<double> zero_y(ny, 0.0), zero_x(nx, 0.0);

  // Max forward, with and without argmax: exact.
  std::vector<float> want_y(ny);
  ref::maxpool2d_forward<float>(s, x.data(), want_y.data());
  const std::vector<int32_t> want_a = argmax_oracle(s, x);
  if (!ct::poisoned_output(ny, kGuard, stream, &by, &py) || !ct::poisoned_output(ny, kGuard, stream, &by2, &py2) || !index_buffer(ny, nullptr, stream, &ba, &pa))
    return;
  if (!ct::ok(cuda::maxpool2d_forward(s, px, py, pa, stream), base + ": maxpool2d_forward")) return;
  ct::expect_output(py, ny, kGuard, want_y, zero_y, stream, base + ": maxpool2d_forward y");
  std::vector<int32_t> got_a;
  if (!download_index(pa, ny, stream, &got_a)) return;
  compare_index(got_a, want_a, base + ": maxpool2d_forward argmax");
  ct::guard_intact(reinterpret_cast<const float*>(pa), ny, kGuard, stream, base + ": argmax (guard)");
  if (ct::ok(cuda::maxpool2d_forward(s, px, py2, nullptr, stream), base + ": maxpool2d_forward (no argmax)"))
    ct::expect_output(py2, ny, kGuard, want_y, zero_y, stream, base + ": maxpool2d_forward (no argmax) y");

  // Max backward from the argmax the kernel produced (the oracle's; checked above).
  {
    std::vector<double> mag;
    std::vector<float> want = scatter_oracle(s, dy, want_a, &mag);
    if (!nans) {  // the reference finds the first max itself
      std::vector<float> r(nx);
      ref::maxpool2d_backward<float>(s, x.data(), dy.data(), r.data());
      want = r;
    }
    std::vector<double> tol(nx);
    for (size_t i = 0; i < nx; ++i) tol[i] = (s.KH * s.KW + 1) * eps<float>() * mag[i] + 1e-30;
    if (!ct::poisoned_output(nx, kGuard, stream, &bdx, &pdx)) return;
    if (ct::ok(cuda::maxpool2d_backward(s, pdy, pa, pdx, stream), base + ": maxpool2d_backward"))
      ct::expect_output(pdx, nx, kGuard, want, tol, stream, base + ": maxpool2d_backward");
    // Corrupted entries are skipped, never followed.
    std::vector<int32_t> bad = want_a;
    const int32_t junk[3] = {-1, static_cast<int32_t>(s.H * s.W), 1000000000};
    for (size_t i = 0; i < bad.size(); i += 3) bad[i] = junk[(i / 3) % 3];
    const std::vector<float> want_bad = scatter_oracle(s, dy, bad, &mag);
    for (size_t i = 0; i < nx; ++i) tol[i] = (s.KH * s.KW + 1) * eps<float>() * mag[i] + 1e-30;
    if (!index_buffer(ny, &bad, stream, &bbad, &pbad) || !ct::poisoned_output(nx, kGuard, stream, &bdx2, &pdx2)) return;
    if (ct::ok(cuda::maxpool2d_backward(s, pdy, pbad, pdx2, stream), base + ": maxpool2d_backward (bad argmax)"))
      ct::expect_output(pdx2, nx, kGuard, want_bad, tol, stream, base + ": maxpool2d_backward (bad argmax)");
  }

  // Average forward and backward.
  {
    std::vector<float> want(ny), mag(ny);
    const std::vector<float> ax = absv(x);
    ref::avgpool2d_forward<float>(s, x.data(), want.data());
    ref::avgpool2d_forward<float>(s, ax.data(), mag.data());
    std::vector<double> tol(ny);
    for (size_t i = 0; i < ny; ++i) tol[i] = (s.KH * s.KW + 2) * eps<float>() * mag[i] + 1e-30;
    if (ct::ok(cuda::avgpool2d_forward(s, px, py, stream), base + ": avgpool2d_forward"))
      ct::expect_output(py, ny, kGuard, want, tol, stream, base + ": avgpool2d_forward");
    std::vector<float> wantx(nx), magx(nx);
    const std::vector<float> ady = absv(dy);
    ref::avgpool2d_backward<float>(s, dy.data(), wantx.data());
    ref::avgpool2d_backward<float>(s, ady.data(), magx.data());
    std::vector<double> tolx(nx);
    for (size_t i = 0; i < nx; ++i) tolx[i] = (s.KH * s.KW + 2) * eps<float>() * magx[i] + 1e-30;
    if (ct::ok(cuda::avgpool2d_backward(s, pdy, pdx, stream), base + ": avgpool2d_backward"))
      ct::expect_output(pdx, nx, kGuard, wantx, tolx, stream, base + ": avgpool2d_backward");
  }
}

void run_global(int64_t N, int64_t HW, int64_t C, bool nans, cudaStream_t stream) {
  char what[120];
  std::snprintf(what, sizeof what, "global pool N=%lld HW=%lld C=%lld%s", (long long)N, (long long)HW,
                (long long)C, nans ? " NaN inputs" : "");
  const std::string base(what);
  const size_t nx = static_cast<size_t>(N * HW * C), ny = static_cast<size_t>(N * C);
  const std::vector<float> x = inputs(nx, nans), dy = random_vec<float>(ny);
  cuda::DeviceBuffer bx, bdy, by, ba, bdx;
  float *px, *pdy, *py, *pdx;
  int32_t* pa;
  if (!ct::upload(x, 0, 0, stream, &bx, &px) || !ct::upload(dy, 0, 0, stream, &bdy, &pdy) ||
      !ct::poisoned_output(ny, kGuard, stream, &by, &py) || !ct::poisoned_output(nx, kGuard, stream, &bdx, &pdx) || !index_buffer(ny, nullptr, stream, &ba, &pa))
    return;
  {  // average
    std::vector<float> want(ny), mag(ny);
    const std::vector<float> ax = absv(x);
    ref::global_avgpool2d_forward<float>(N, HW, C, x.data(), want.data());
    ref::global_avgpool2d_forward<float>(N, HW, C, ax.data(), mag.data());
    std::vector<double> tol(ny);
    for (size_t i = 0; i < ny; ++i) tol[i] = 4 * eps<float>() * mag[i] + 1e-30;
    if (ct::ok(cuda::global_avgpool2d_forward(N, HW, C, px, py, stream), base + ": global_avgpool2d_forward"))
      ct::expect_output(py, ny, kGuard, want, tol, stream, base + ": global_avgpool2d_forward");
    std::vector<float> wx(nx);
    ref::global_avgpool2d_backward<float>(N, HW, C, dy.data(), wx.data());
    std::vector<double> tx(nx);
    for (size_t i = 0; i < nx; ++i) tx[i] = 2 * eps<float>() * std::fabs(wx[i]) + 1e-30;
    if (ct::ok(cuda::global_avgpool2d_backward(N, HW, C, pdy, pdx, stream), base + ": global_avgpool2d_backward"))
      ct::expect_output(pdx, nx, kGuard, wx, tx, stream, base + ": global_avgpool2d_backward");
  }
  {  // max: the oracle is the CPU's sequential rule
    std::vector<float> want(ny);
    std::vector<int32_t> wa(ny);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        float b = x[n * HW * C + c];
        int32_t q = 0;
        for (int64_t p = 1; p < HW; ++p) {
          const float v = x[(n * HW + p) * C + c];
          if (v > b || (std::isnan(v) && !std::isnan(b))) { b = v; q = static_cast<int32_t>(p); }
        }
        want[n * C + c] = b;
        wa[n * C + c] = q;
      }
    if (!nans) {
      std::vector<float> r(ny);
      ref::global_maxpool2d_forward<float>(N, HW, C, x.data(), r.data());
      want = r;
    }
    const std::vector<double> zy(ny, 0.0), zx(nx, 0.0);
    if (ct::ok(cuda::global_maxpool2d_forward(N, HW, C, px, py, pa, stream), base + ": global_maxpool2d_forward")) {
      ct::expect_output(py, ny, kGuard, want, zy, stream, base + ": global_maxpool2d_forward y");
      std::vector<int32_t> ga;
      if (!download_index(pa, ny, stream, &ga)) return;
      compare_index(ga, wa, base + ": global_maxpool2d_forward argmax");
      ct::guard_intact(reinterpret_cast<const float*>(pa), ny, kGuard, stream, base + ": argmax (guard)");
    }
    if (ct::ok(cuda::global_maxpool2d_forward(N, HW, C, px, py, nullptr, stream), base + ": global max, no argmax"))
      ct::expect_output(py, ny, kGuard, want, zy, stream, base + ": global_maxpool2d_forward (no argmax) y");
    std::vector<float> wx(nx, 0.0f);
    if (!nans) ref::global_maxpool2d_backward<float>(N, HW, C, x.data(), dy.data(), wx.data());
    else
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c) wx[(n * HW + wa[n * C + c]) * C + c] = dy[n * C + c];
    if (ct::ok(cuda::global_maxpool2d_backward(N, HW, C, pdy, pa, pdx, stream), base + ": global_maxpool2d_backward"))
      ct::expect_output(pdx, nx, kGuard, wx, zx, stream, base + ": global_maxpool2d_backward");
  }
}

void run_upsample(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh, int64_t sw, UpsampleMode mode,
                  cudaStream_t stream) {
  static const char* names[] = {"nearest", "bilinear", "bilinearLegacy"};
  char what[160];
  std::snprintf(what, sizeof what, "upsampling2d %s N=%lld H=%lld W=%lld C=%lld s=%lld,%lld",
                names[static_cast<int>(mode)], (long long)N, (long long)H, (long long)W, (long long)C,
                (long long)sh, (long long)sw);
  const std::string base(what);
  const size_t nx = static_cast<size_t>(N * H * W * C), ny = static_cast<size_t>(N * H * sh * W * sw * C);
  const std::vector<float> x = random_vec<float>(nx), dy = random_vec<float>(ny);
  cuda::DeviceBuffer bx, bdy, by, bdx;
  float *px, *pdy, *py, *pdx;
  if (!ct::upload(x, 0, 0, stream, &bx, &px) || !ct::upload(dy, 0, 0, stream, &bdy, &pdy) ||
      !ct::poisoned_output(ny, kGuard, stream, &by, &py) || !ct::poisoned_output(nx, kGuard, stream, &bdx, &pdx))
    return;
  const bool nearest = mode == UpsampleMode::Nearest;
  std::vector<float> want(ny);
  ref::upsampling2d_forward<float>(N, H, W, C, sh, sw, mode, x.data(), want.data());
  std::vector<double> tol(ny, nearest ? 0.0 : 16 * eps<float>());  // |x| <= 1
  if (ct::ok(cuda::upsampling2d_forward(N, H, W, C, sh, sw, mode, px, py, stream), base + " forward"))
    ct::expect_output(py, ny, kGuard, want, tol, stream, base + " forward");
  std::vector<float> wx(nx), mag(nx);
  const std::vector<float> ady = absv(dy);
  ref::upsampling2d_backward<float>(N, H, W, C, sh, sw, mode, dy.data(), wx.data());
  ref::upsampling2d_backward<float>(N, H, W, C, sh, sw, mode, ady.data(), mag.data());
  const double terms = nearest ? double(sh * sw) : 4.0 * (2 * sh + 2) * (2 * sw + 2);
  std::vector<double> tx(nx);
  for (size_t i = 0; i < nx; ++i) tx[i] = (terms + 2) * eps<float>() * mag[i] + 1e-30;
  if (ct::ok(cuda::upsampling2d_backward(N, H, W, C, sh, sw, mode, pdy, pdx, stream), base + " backward"))
    ct::expect_output(pdx, nx, kGuard, wx, tx, stream, base + " backward");
}

int run(const char* name) {
  if (!ct::device_or_skip(name)) return ct::kSkipExit;
  const bool small = ct::small_mode();
  cudaStream_t stream = nullptr;
  if (!ct::ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return finish(name);

  //                   N  H  W  C  KH KW sh sw pad
  std::vector<PoolCase> pools = {
      {1, 5, 5, 1, 2, 2, 2, 2, 0},
      {3, 7, 6, 3, 3, 3, 2, 2, 1},
      {1, 6, 7, 5, 3, 3, 1, 1, 1},   // overlapping windows: shared argmax pixels
      {3, 5, 9, 17, 2, 3, 1, 2, 0},
      {1, 4, 4, 3, 5, 5, 1, 1, 1},   // window larger than the image
      {1, 3, 3, 3, 2, 2, 1, 1, 2},   // windows that cover nothing
      {1, 5, 6, 5, 2, 3, 2, 1, 1},
  };
  if (!small) {
    pools.push_back({3, 32, 33, 17, 3, 3, 2, 2, 1});
    pools.push_back({2, 64, 63, 64, 2, 2, 2, 2, 0});
    pools.push_back({3, 31, 30, 5, 5, 5, 1, 1, 1});
  }
  for (const PoolCase& p : pools)
    for (int nans = 0; nans < 2; ++nans) run_pool(p, nans != 0, stream);

  for (int64_t N : {int64_t(1), int64_t(3)})
    for (int64_t HW : {int64_t(1), int64_t(7), int64_t(33), int64_t(70)})
      for (int64_t C : {int64_t(1), int64_t(5), int64_t(17), int64_t(33)})
        for (int nans = 0; nans < 2; ++nans) run_global(N, HW, C, nans != 0, stream);
  if (!small) run_global(3, 50176, 65, true, stream);

  const UpsampleMode modes[] = {UpsampleMode::Nearest, UpsampleMode::Bilinear, UpsampleMode::BilinearLegacy};
  for (UpsampleMode m : modes) {
    run_upsample(1, 1, 1, 1, 2, 2, m, stream);
    run_upsample(3, 3, 5, 3, 2, 3, m, stream);
    run_upsample(1, 5, 3, 17, 3, 1, m, stream);
    run_upsample(1, 4, 4, 5, 1, 1, m, stream);
    if (!small) run_upsample(3, 31, 17, 33, 2, 2, m, stream);
  }

  ct::ok(cudaStreamSynchronize(stream), "final cudaStreamSynchronize");
  ct::ok(cudaStreamDestroy(stream), "cudaStreamDestroy");
  return finish(name);
}

}  // namespace pool_test

#ifndef GF_CUDA_TEST_NO_MAIN
int main() { return pool_test::run("test_cuda_pool"); }
#endif

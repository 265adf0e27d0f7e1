// conv2d and conv2dTranspose kernels vs the naive references, on random shapes drawn from odd
// sizes (N 1,3; H, W 1,5,7,13; C 1,3,5; O 1,4,7; kernel 1,2,3,5; strides 1,2,3; dilation 1,2)
// with 'valid', 'same' (TF's rule) and random asymmetric padding, float and double, 1 and 2
// threads. The references are validated by the adjoint identities in double:
//   <conv(x, w), dy> = <x, conv_backward_input(dy, w)> = <w, conv_backward_filter(x, dy)>.
// A few larger shapes exercise several im2col blocks, filter-gradient partial sums, and images
// larger than one block; the result must not depend on the thread count.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "cpu/conv.h"
#include "cpu/cpu_features.h"
#include "cpu/pool.h"
#include "cpu/threadpool.h"
#include "ref/ref.h"
#include "tests/test_util.h"

using namespace gf;
using namespace gf::test;

namespace {

enum class Pad { Valid, Same, Explicit };

std::string describe(const Conv2dShape& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "N%lld H%lld W%lld C%lld k%lldx%lld O%lld -> %lldx%lld s%lld,%lld d%lld,%lld "
                "pad t%lld l%lld",
                (long long)s.N, (long long)s.H, (long long)s.W, (long long)s.C, (long long)s.KH,
                (long long)s.KW, (long long)s.O, (long long)s.OH, (long long)s.OW,
                (long long)s.sh, (long long)s.sw, (long long)s.dh, (long long)s.dw,
                (long long)s.pad_top, (long long)s.pad_left);
  return buf;
}

// Fills s from the spatial/kernel fields and a padding rule; false when the kernel does not fit.
bool finish_shape(Conv2dShape& s, Pad pad) {
  int64_t pt = 0, pb = 0, pl = 0, pr = 0;
  if (pad == Pad::Same) {
    same_padding(s.H, s.KH, s.sh, s.dh, &pt, &pb);
    same_padding(s.W, s.KW, s.sw, s.dw, &pl, &pr);
  } else if (pad == Pad::Explicit) {
    std::uniform_int_distribution<int64_t> d(0, 2);
    pt = d(rng()); pb = d(rng()); pl = d(rng()); pr = d(rng());
  }
  s.pad_top = pt;
  s.pad_left = pl;
  s.OH = conv_output_size(s.H, s.KH, s.sh, s.dh, pt, pb);
  s.OW = conv_output_size(s.W, s.KW, s.sw, s.dw, pl, pr);
  return s.OH > 0 && s.OW > 0;
}

Conv2dShape random_shape() {
  for (;;) {
    Conv2dShape s{};
    s.N = pick<int64_t>({1, 3});
    s.H = pick<int64_t>({1, 5, 7, 13});
    s.W = pick<int64_t>({1, 5, 7, 13});
    s.C = pick<int64_t>({1, 3, 5});
    s.O = pick<int64_t>({1, 4, 7, 33});
    s.KH = pick<int64_t>({1, 2, 3, 5});
    s.KW = pick<int64_t>({1, 2, 3, 5});
    s.sh = pick<int64_t>({1, 2, 3});
    s.sw = pick<int64_t>({1, 2, 3});
    s.dh = pick<int64_t>({1, 2});
    s.dw = pick<int64_t>({1, 2});
    if (finish_shape(s, pick<Pad>({Pad::Valid, Pad::Same, Pad::Explicit}))) return s;
  }
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Adjoint identities of the references (and of the double kernels) in double.
void check_adjoint(const Conv2dShape& s) {
  const size_t nx = s.N * s.H * s.W * s.C, nw = s.KH * s.KW * s.C * s.O,
               ny = s.N * s.OH * s.OW * s.O;
  std::vector<double> x = random_vec<double>(nx), w = random_vec<double>(nw),
                      dy = random_vec<double>(ny), y(ny), dx(nx), dw(nw), db(s.O);
  for (int impl = 0; impl < 2; ++impl) {
    if (impl == 0) {
      ref::conv2d_forward<double>(s, x.data(), w.data(), nullptr, y.data());
      ref::conv2d_backward_input<double>(s, dy.data(), w.data(), dx.data());
      ref::conv2d_backward_filter<double>(s, x.data(), dy.data(), dw.data(), db.data());
    } else {
      conv2d_forward<double>(s, x.data(), w.data(), nullptr, y.data());
      conv2d_backward_input<double>(s, dy.data(), w.data(), dx.data());
      conv2d_backward_filter<double>(s, x.data(), dy.data(), dw.data(), db.data());
    }
    const double a = dot(y, dy), b = dot(x, dx), c = dot(w, dw);
    const double tol = 1e-12 * (1 + std::sqrt(double(ny) * s.KH * s.KW * s.C));
    const std::string what = std::string(impl ? "kernel" : "ref") + " adjoint " + describe(s);
    check(close(b, a, tol, 1e-12), what + ": <conv(x,w),dy> != <x,backward_input(dy)>");
    check(close(c, a, tol, 1e-12), what + ": <conv(x,w),dy> != <w,backward_filter(x,dy)>");
    double sdy = 0, sdb = 0;  // dbias = sum of dy over every pixel
    for (size_t i = 0; i < ny; ++i) sdy += dy[i];
    for (int64_t o = 0; o < s.O; ++o) sdb += db[o];
    check(close(sdb, sdy, tol, 1e-12), what + ": sum(dbias) != sum(dy)");
  }
}

template <typename T>
void check_against_ref(const Conv2dShape& s, int threads) {
  const size_t nx = s.N * s.H * s.W * s.C, nw = s.KH * s.KW * s.C * s.O,
               ny = s.N * s.OH * s.OW * s.O;
  const std::string what = std::string(type_name<T>()) + " threads=" +
                           std::to_string(threads) + " " + describe(s);
  // Tolerance grows with the length of the longest sum (products of values in [-1, 1]).
  const double len = double(s.KH * s.KW * std::max(s.C, s.O)) + double(s.N * s.OH * s.OW);
  const double tol = (sizeof(T) == 4 ? 4e-6 : 1e-14) * std::sqrt(len) * 4;

  std::vector<T> x = random_vec<T>(nx), w = random_vec<T>(nw), bias = random_vec<T>(s.O),
                 dy = random_vec<T>(ny);
  std::vector<T> y(ny, T(777)), want_y(ny);
  conv2d_forward<T>(s, x.data(), w.data(), bias.data(), y.data());
  ref::conv2d_forward<T>(s, x.data(), w.data(), bias.data(), want_y.data());
  check_close(y.data(), want_y.data(), ny, tol, tol, "forward " + what);
  conv2d_forward<T>(s, x.data(), w.data(), nullptr, y.data());
  ref::conv2d_forward<T>(s, x.data(), w.data(), nullptr, want_y.data());
  check_close(y.data(), want_y.data(), ny, tol, tol, "forward no bias " + what);
  // relu fused into the store, with and without bias: relu of the reference.
  for (const T* b : {static_cast<const T*>(bias.data()), static_cast<const T*>(nullptr)}) {
    std::fill(y.begin(), y.end(), T(777));
    conv2d_forward<T>(s, x.data(), w.data(), b, y.data(), GemmActivation::Relu);
    ref::conv2d_forward<T>(s, x.data(), w.data(), b, want_y.data());
    for (T& v : want_y) v = v > T(0) ? v : T(0);
    check_close(y.data(), want_y.data(), ny, tol, tol,
                std::string("forward relu") + (b ? " bias " : " ") + what);
  }

  std::vector<T> dx(nx, T(777)), want_dx(nx);  // garbage in dx: the kernel must overwrite
  conv2d_backward_input<T>(s, dy.data(), w.data(), dx.data());
  ref::conv2d_backward_input<T>(s, dy.data(), w.data(), want_dx.data());
  check_close(dx.data(), want_dx.data(), nx, tol, tol, "backward_input " + what);

  std::vector<T> dw(nw, T(777)), want_dw(nw), db(s.O, T(777)), want_db(s.O);
  conv2d_backward_filter<T>(s, x.data(), dy.data(), dw.data(), db.data());
  ref::conv2d_backward_filter<T>(s, x.data(), dy.data(), want_dw.data(), want_db.data());
  check_close(dw.data(), want_dw.data(), nw, tol, tol, "backward_filter " + what);
  check_close(db.data(), want_db.data(), s.O, tol, tol, "backward_filter dbias " + what);

  // conv2dTranspose: input t_x (N, OH, OW, O), output (N, H, W, C), kernel (KH, KW, C, O).
  std::vector<T> tbias = random_vec<T>(s.C);
  std::vector<T> ty(nx, T(777)), want_ty(nx);
  conv2d_transpose_forward<T>(s, dy.data(), w.data(), tbias.data(), ty.data());
  ref::conv2d_backward_input<T>(s, dy.data(), w.data(), want_ty.data());
  for (size_t i = 0; i < nx; ++i) want_ty[i] += tbias[i % s.C];
  check_close(ty.data(), want_ty.data(), nx, tol, tol, "transpose forward " + what);
  std::vector<T> tdx(ny, T(777)), want_tdx(ny);
  conv2d_transpose_backward_input<T>(s, x.data(), w.data(), tdx.data());
  ref::conv2d_forward<T>(s, x.data(), w.data(), nullptr, want_tdx.data());
  check_close(tdx.data(), want_tdx.data(), ny, tol, tol, "transpose backward_input " + what);
  std::vector<T> tdw(nw, T(777)), tdb(s.C, T(777)), want_tdb(s.C);
  conv2d_transpose_backward_filter<T>(s, dy.data(), x.data(), tdw.data(), tdb.data());
  ref::conv2d_backward_filter<T>(s, x.data(), dy.data(), want_dw.data(), nullptr);
  for (int64_t c = 0; c < s.C; ++c) {
    double t = 0;
    for (size_t i = c; i < nx; i += s.C) t += x[i];
    want_tdb[c] = T(t);
  }
  check_close(tdw.data(), want_dw.data(), nw, tol, tol, "transpose backward_filter " + what);
  check_close(tdb.data(), want_tdb.data(), s.C, tol, tol, "transpose dbias " + what);
}

// Larger shapes: several blocks, partial sums, images bigger than a block; results must be
// identical on 1 and 2 threads.
template <typename T>
void check_large(Conv2dShape s) {
  finish_shape(s, Pad::Same);
  const size_t nx = s.N * s.H * s.W * s.C, nw = s.KH * s.KW * s.C * s.O,
               ny = s.N * s.OH * s.OW * s.O;
  std::vector<T> x = random_vec<T>(nx), w = random_vec<T>(nw), dy = random_vec<T>(ny);
  std::vector<T> out[2][3];
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    auto& o = out[threads - 1];
    o[0].resize(ny); o[1].resize(nx); o[2].resize(nw + s.O);
    conv2d_forward<T>(s, x.data(), w.data(), nullptr, o[0].data());
    conv2d_backward_input<T>(s, dy.data(), w.data(), o[1].data());
    conv2d_backward_filter<T>(s, x.data(), dy.data(), o[2].data(), o[2].data() + nw);
  }
  const std::string what = std::string(type_name<T>()) + " large " + describe(s);
  const char* names[3] = {"forward", "backward_input", "backward_filter"};
  for (int k = 0; k < 3; ++k)
    check_close(out[1][k].data(), out[0][k].data(), out[0][k].size(), 0, 0,
                std::string(names[k]) + " 2 threads == 1 thread " + what);
  std::vector<T> want(ny), want_dx(nx), want_dw(nw + s.O);
  ref::conv2d_forward<T>(s, x.data(), w.data(), nullptr, want.data());
  ref::conv2d_backward_input<T>(s, dy.data(), w.data(), want_dx.data());
  ref::conv2d_backward_filter<T>(s, x.data(), dy.data(), want_dw.data(), want_dw.data() + nw);
  const double len = double(s.N * s.OH * s.OW);
  const double tol = (sizeof(T) == 4 ? 4e-6 : 1e-14) * std::sqrt(len) * 4;
  check_close(out[0][0].data(), want.data(), ny, tol, tol, "forward " + what);
  check_close(out[0][1].data(), want_dx.data(), nx, tol, tol, "backward_input " + what);
  check_close(out[0][2].data(), want_dw.data(), nw + s.O, tol, tol, "backward_filter " + what);
}

// The im2col matrix of x, built naively: a row per output pixel, (kh, kw, c) columns, zeros
// for taps outside the input.
std::vector<float> naive_im2col(const Conv2dShape& s, const std::vector<float>& x) {
  const int64_t kc = s.KH * s.KW * s.C, M = s.N * s.OH * s.OW;
  std::vector<float> col(M * kc, 0.0f);
  for (int64_t r = 0; r < M; ++r) {
    const int64_t n = r / (s.OH * s.OW), oh = r / s.OW % s.OH, ow = r % s.OW;
    for (int64_t kh = 0; kh < s.KH; ++kh)
      for (int64_t kw = 0; kw < s.KW; ++kw)
        for (int64_t c = 0; c < s.C; ++c) {
          const int64_t ih = oh * s.sh - s.pad_top + kh * s.dh, iw = ow * s.sw - s.pad_left + kw * s.dw;
          if (ih >= 0 && ih < s.H && iw >= 0 && iw < s.W)
            col[r * kc + (kh * s.KW + kw) * s.C + c] = x[((n * s.H + ih) * s.W + iw) * s.C + c];
        }
  }
  return col;
}

// The direct small-tap path (AVX-512) gives the bits of im2col + GEMM: im2col built here
// naively, then the library's GEMM with the same epilogue.
void check_direct_matches_gemm(const Conv2dShape& s) {
  const int64_t kc = s.KH * s.KW * s.C, M = s.N * s.OH * s.OW;
  std::vector<float> x = random_vec<float>(s.N * s.H * s.W * s.C), w = random_vec<float>(kc * s.O),
                     bias = random_vec<float>(s.O), col = naive_im2col(s, x);
  for (GemmActivation act : {GemmActivation::Linear, GemmActivation::Relu})
    for (bool with_bias : {false, true}) {
      std::vector<float> direct(M * s.O, 777.f), want(M * s.O, 555.f);
      conv2d_forward<float>(s, x.data(), w.data(), with_bias ? bias.data() : nullptr, direct.data(), act);
      gemm<float>(false, false, M, s.O, kc, 1.0f, col.data(), kc, w.data(), s.O, 0.0f, want.data(), s.O,
                  GemmEpilogue<float>{with_bias ? bias.data() : nullptr, act});
      check(std::memcmp(direct.data(), want.data(), sizeof(float) * M * s.O) == 0,
            "conv2d forward bit-identical to im2col + GEMM " + describe(s) +
                (with_bias ? " +bias" : "") + (act == GemmActivation::Relu ? " relu" : ""));
    }
}

// The direct small-tap filter gradient (AVX-512) against col^T dy with im2col built naively:
// close to the double product (its sums run in another order than the GEMM's), the bias the
// column sums of dy, and an inf in dy where the window hangs over the padding gives NaN in the
// same places as the GEMM (0 * inf: the padding is multiplied, not skipped).
void check_direct_filter(const Conv2dShape& s) {
  const int64_t kc = s.KH * s.KW * s.C, M = s.N * s.OH * s.OW, nw = kc * s.O;
  std::vector<float> x = random_vec<float>(s.N * s.H * s.W * s.C), dy = random_vec<float>(M * s.O);
  const std::vector<float> colf = naive_im2col(s, x);
  std::vector<double> want(nw, 0.0), want_db(s.O, 0.0);
  for (int64_t r = 0; r < M; ++r)
    for (int64_t o = 0; o < s.O; ++o) {
      const double g = dy[r * s.O + o];
      want_db[o] += g;
      for (int64_t k = 0; k < kc; ++k) want[k * s.O + o] += static_cast<double>(colf[r * kc + k]) * g;
    }
  std::vector<float> dw(nw, 777.f), db(s.O, 777.f), wantf(nw), want_dbf(s.O);
  for (int64_t i = 0; i < nw; ++i) wantf[i] = static_cast<float>(want[i]);
  for (int64_t o = 0; o < s.O; ++o) want_dbf[o] = static_cast<float>(want_db[o]);
  conv2d_backward_filter<float>(s, x.data(), dy.data(), dw.data(), db.data());
  const double tol = 1e-5 * std::sqrt(static_cast<double>(M)) + 1e-6;
  check_close(dw.data(), wantf.data(), nw, tol, tol, "direct backward_filter " + describe(s));
  check_close(db.data(), want_dbf.data(), s.O, tol, tol, "direct backward_filter dbias " + describe(s));

  dy[0] = std::numeric_limits<float>::infinity();  // pixel 0, channel 0
  std::vector<float> gemm_dw(nw, 555.f);
  conv2d_backward_filter<float>(s, x.data(), dy.data(), dw.data(), nullptr);
  gemm<float>(true, false, kc, s.O, M, 1.0f, colf.data(), kc, dy.data(), s.O, 0.0f, gemm_dw.data(), s.O);
  bool same_nan = true;
  for (int64_t i = 0; i < nw; ++i) same_nan = same_nan && std::isnan(dw[i]) == std::isnan(gemm_dw[i]);
  check(same_nan, "direct backward_filter: inf in dy gives NaN where the GEMM does " + describe(s));
}

// A max pooling of the conv's output s (valid or same, any window and stride), if one fits.
bool random_pool_of(const Conv2dShape& s, Pool2dShape* p) {
  *p = Pool2dShape{s.N, s.OH, s.OW, s.O, pick<int64_t>({1, 2, 3}), pick<int64_t>({1, 2, 3}), 0, 0,
                   pick<int64_t>({1, 2, 3}), pick<int64_t>({1, 2, 3}), 0, 0};
  if (pick<int>({0, 1}) == 0) {  // valid
    if (p->H < p->KH || p->W < p->KW) return false;
    p->OH = (p->H - p->KH) / p->sh + 1;
    p->OW = (p->W - p->KW) / p->sw + 1;
  } else {  // same
    p->OH = (p->H + p->sh - 1) / p->sh;
    p->OW = (p->W + p->sw - 1) / p->sw;
    p->pad_top = std::max<int64_t>((p->OH - 1) * p->sh + p->KH - p->H, 0) / 2;
    p->pad_left = std::max<int64_t>((p->OW - 1) * p->sw + p->KW - p->W, 0) / 2;
  }
  return true;
}

// conv + max pool in one kernel: the bits of conv2d_forward then maxpool2d_forward.
template <typename T>
void check_conv_pool(const Conv2dShape& s, const Pool2dShape& p, const std::string& kernel) {
  std::vector<T> x = random_vec<T>(s.N * s.H * s.W * s.C), w = random_vec<T>(s.KH * s.KW * s.C * s.O),
                 bias = random_vec<T>(s.O), y(s.N * s.OH * s.OW * s.O);
  const size_t n_out = p.N * p.OH * p.OW * p.C;
  for (GemmActivation act : {GemmActivation::Linear, GemmActivation::Relu}) {
    std::vector<T> want(n_out, T(1)), got(n_out, T(777));
    conv2d_forward<T>(s, x.data(), w.data(), bias.data(), y.data(), act);
    maxpool2d_forward<T>(p, y.data(), want.data(), nullptr);
    conv2d_maxpool2d_forward<T>(s, p, x.data(), w.data(), bias.data(), got.data(), act);
    char pool[96];
    std::snprintf(pool, sizeof pool, " pool %lldx%lld /%lld,%lld -> %lldx%lld pad t%lld l%lld",
                  (long long)p.KH, (long long)p.KW, (long long)p.sh, (long long)p.sw, (long long)p.OH,
                  (long long)p.OW, (long long)p.pad_top, (long long)p.pad_left);
    check(std::memcmp(got.data(), want.data(), sizeof(T) * n_out) == 0,
          std::string("conv + maxpool fused ") + type_name<T>() + " kernel=" + kernel + " " +
              describe(s) + pool + (act == GemmActivation::Relu ? " relu" : ""));
  }
}

}  // namespace

int main() {
  // Fixed corner cases first, then random shapes.
  std::vector<Conv2dShape> shapes;
  {
    Conv2dShape s{3, 7, 5, 3, 3, 3, 4, 0, 0, 1, 1, 1, 1, 0, 0};  // 3x3 valid
    finish_shape(s, Pad::Valid); shapes.push_back(s);
    s = {3, 7, 5, 3, 3, 3, 4, 0, 0, 1, 1, 1, 1, 0, 0};  // 3x3 same
    finish_shape(s, Pad::Same); shapes.push_back(s);
    s = {1, 13, 13, 1, 3, 3, 7, 0, 0, 1, 1, 1, 1, 0, 0};  // first layer, Cin = 1
    finish_shape(s, Pad::Valid); shapes.push_back(s);
    s = {3, 5, 7, 5, 1, 1, 4, 0, 0, 1, 1, 1, 1, 0, 0};  // pointwise
    finish_shape(s, Pad::Valid); shapes.push_back(s);
    s = {3, 5, 7, 5, 1, 1, 4, 0, 0, 2, 3, 1, 1, 0, 0};  // strided 1x1
    finish_shape(s, Pad::Same); shapes.push_back(s);
    s = {1, 13, 7, 3, 5, 2, 4, 0, 0, 3, 2, 2, 2, 0, 0};  // dilated, strided, same
    finish_shape(s, Pad::Same); shapes.push_back(s);
    s = {3, 1, 1, 3, 1, 1, 7, 0, 0, 1, 1, 1, 1, 0, 0};  // 1x1 image
    finish_shape(s, Pad::Valid); shapes.push_back(s);
    s = {1, 1, 1, 3, 5, 5, 7, 0, 0, 3, 3, 2, 2, 0, 0};  // 1x1 image, big kernel, same
    finish_shape(s, Pad::Same); shapes.push_back(s);
  }
  for (int i = 0; i < 300; ++i) shapes.push_back(random_shape());

  for (const Conv2dShape& s : shapes) check_adjoint(s);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (const Conv2dShape& s : shapes) {
      check_against_ref<float>(s, threads);
      check_against_ref<double>(s, threads);
    }
  }
  // The direct path and conv + pool, on every float kernel this CPU runs (the direct path is
  // AVX-512's), on 1 and 2 threads; conv + pool also where a band is a fraction of an image.
  std::vector<std::pair<Conv2dShape, Pool2dShape>> fused;
  for (const Conv2dShape& s : shapes) {
    Pool2dShape p;
    for (int tries = 0; tries < 4; ++tries)
      if (random_pool_of(s, &p)) { fused.push_back({s, p}); break; }
  }
  fused.push_back({{4, 28, 28, 1, 3, 3, 32, 26, 26, 1, 1, 1, 1, 0, 0}, {4, 26, 26, 32, 2, 2, 13, 13, 2, 2, 0, 0}});
  fused.push_back({{2, 13, 13, 32, 3, 3, 64, 11, 11, 1, 1, 1, 1, 0, 0}, {2, 11, 11, 64, 2, 2, 5, 5, 2, 2, 0, 0}});
  fused.push_back({{1, 90, 90, 3, 3, 3, 40, 90, 90, 1, 1, 1, 1, 1, 1}, {1, 90, 90, 40, 3, 3, 45, 45, 2, 2, 0, 0}});
  for (const char* kernel : {"ref", "avx2", "avx512", "auto"}) {
    if (set_gemm_kernel(kernel) != SetKernelResult::Ok) {
      std::printf("test_conv: %s kernels not run (this CPU lacks the ISA)\n", kernel);
      continue;
    }
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      for (const Conv2dShape& s : shapes)
        if (s.KH * s.KW * s.C <= 32) check_direct_matches_gemm(s);
      if (std::string(kernel) == "avx512") {
        for (const Conv2dShape& s : shapes)
          if (s.KH * s.KW * s.C <= 32) check_direct_filter(s);
        // the MNIST first layer (several partials); 3 channels (27 taps: 3 groups) and 2x4x4
        // (32 taps) with O past one and two runs of 32; same padding, strides, dilation
        for (Conv2dShape s : {Conv2dShape{9, 28, 28, 1, 3, 3, 32, 0, 0, 1, 1, 1, 1, 0, 0},
                              Conv2dShape{2, 15, 11, 3, 3, 3, 37, 0, 0, 2, 1, 1, 1, 0, 0},
                              Conv2dShape{2, 12, 12, 2, 4, 4, 64, 0, 0, 1, 2, 2, 1, 0, 0},
                              Conv2dShape{1, 9, 9, 3, 3, 3, 70, 0, 0, 1, 1, 1, 1, 0, 0}}) {
          finish_shape(s, s.O == 32 ? Pad::Valid : Pad::Same);
          check_direct_filter(s);
        }
      }
      for (const auto& sp : fused) check_conv_pool<float>(sp.first, sp.second, kernel);
    }
  }
  for (const auto& sp : fused) check_conv_pool<double>(sp.first, sp.second, "generic");
  // {N, H, W, C, KH, KW, O, ...}: many blocks and partials; images larger than one block.
  check_large<float>({16, 13, 13, 64, 3, 3, 8, 0, 0, 1, 1, 1, 1, 0, 0});
  check_large<float>({2, 40, 40, 64, 3, 3, 8, 0, 0, 1, 1, 1, 1, 0, 0});
  check_large<double>({6, 17, 15, 40, 3, 3, 5, 0, 0, 2, 1, 1, 2, 0, 0});
  check_large<float>({9, 20, 20, 1, 3, 3, 16, 0, 0, 1, 1, 1, 1, 0, 0});
  return finish("test_conv");
}

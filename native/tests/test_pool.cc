// Pooling and upsampling kernels vs the naive references: max/avg pooling on random shapes
// (N 1,3; H, W 1,5,7,13; C 1,3,5; windows 1,2,3,5; strides 1,2,3; 'valid', 'same' and random
// padding smaller than the window), global average/max pooling, UpSampling2D nearest /
// bilinear (half-pixel) / bilinearLegacy with factors 1,2,3, float and double, 1 and 2
// threads. The backward references are validated by adjoint identities in double (pooling by
// max is linear once the argmax is fixed: <maxpool(x), dy> = <x, maxpool_backward(dy)>), and
// bilinear upsampling against hand-computed TF values.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
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

std::string describe(const Pool2dShape& s) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "N%lld H%lld W%lld C%lld k%lldx%lld -> %lldx%lld s%lld,%lld pad t%lld l%lld",
                (long long)s.N, (long long)s.H, (long long)s.W, (long long)s.C, (long long)s.KH,
                (long long)s.KW, (long long)s.OH, (long long)s.OW, (long long)s.sh,
                (long long)s.sw, (long long)s.pad_top, (long long)s.pad_left);
  return buf;
}

Pool2dShape random_pool() {
  for (;;) {
    Pool2dShape s{};
    s.N = pick<int64_t>({1, 3});
    s.H = pick<int64_t>({1, 5, 7, 13});
    s.W = pick<int64_t>({1, 5, 7, 13});
    s.C = pick<int64_t>({1, 3, 5});
    s.KH = pick<int64_t>({1, 2, 3, 5});
    s.KW = pick<int64_t>({1, 2, 3, 5});
    s.sh = pick<int64_t>({1, 2, 3});
    s.sw = pick<int64_t>({1, 2, 3});
    int64_t pt = 0, pb = 0, pl = 0, pr = 0;
    const int mode = pick<int>({0, 1, 2});
    if (mode == 1) {  // 'same'
      same_padding(s.H, s.KH, s.sh, 1, &pt, &pb);
      same_padding(s.W, s.KW, s.sw, 1, &pl, &pr);
    } else if (mode == 2) {  // explicit, each pad < window so every window sees the input
      std::uniform_int_distribution<int64_t> dh(0, s.KH - 1), dw(0, s.KW - 1);
      pt = dh(rng()); pb = dh(rng()); pl = dw(rng()); pr = dw(rng());
    }
    s.pad_top = pt;
    s.pad_left = pl;
    s.OH = conv_output_size(s.H, s.KH, s.sh, 1, pt, pb);
    s.OW = conv_output_size(s.W, s.KW, s.sw, 1, pl, pr);
    if (s.OH > 0 && s.OW > 0) return s;
  }
}

double dot(const double* a, const double* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void check_pool_adjoint(const Pool2dShape& s) {
  const size_t nx = s.N * s.H * s.W * s.C, ny = s.N * s.OH * s.OW * s.C;
  std::vector<double> x = random_vec<double>(nx), dy = random_vec<double>(ny), y(ny), dx(nx);
  const std::string what = describe(s);
  ref::maxpool2d_forward<double>(s, x.data(), y.data());
  ref::maxpool2d_backward<double>(s, x.data(), dy.data(), dx.data());
  check(close(dot(x.data(), dx.data(), nx), dot(y.data(), dy.data(), ny), 1e-12, 1e-12),
        "ref maxpool adjoint " + what);
  ref::avgpool2d_forward<double>(s, x.data(), y.data());
  ref::avgpool2d_backward<double>(s, dy.data(), dx.data());
  check(close(dot(x.data(), dx.data(), nx), dot(y.data(), dy.data(), ny), 1e-12, 1e-12),
        "ref avgpool adjoint " + what);
}

template <typename T>
void check_pool(const Pool2dShape& s, int threads) {
  const size_t nx = s.N * s.H * s.W * s.C, ny = s.N * s.OH * s.OW * s.C;
  const std::string what = std::string(type_name<T>()) + " threads=" +
                           std::to_string(threads) + " " + describe(s);
  const double tol = 8 * eps<T>() * s.KH * s.KW;
  std::vector<T> x = random_vec<T>(nx), dy = random_vec<T>(ny);
  std::vector<T> y(ny, T(777)), want(ny), dx(nx, T(777)), want_dx(nx);
  std::vector<int32_t> am(ny, 12345);
  maxpool2d_forward<T>(s, x.data(), y.data(), am.data());
  ref::maxpool2d_forward<T>(s, x.data(), want.data());
  check_close(y.data(), want.data(), ny, 0, 0, "maxpool forward " + what);
  bool idx_ok = true;  // argmax points at the max inside the image
  for (size_t i = 0; i < ny && idx_ok; ++i) {
    const int64_t n = i / (s.OH * s.OW * s.C), c = i % s.C;
    idx_ok = am[i] >= 0 && am[i] < s.H * s.W && x[(n * s.H * s.W + am[i]) * s.C + c] == y[i];
  }
  check(idx_ok, "maxpool argmax " + what);
  // Without argmax (inference, its own kernels): the same values bit for bit, also with NaN
  // and ties in x (x rounded to a few values, every 7th NaN).
  std::vector<T> xs = x;
  for (size_t i = 0; i < nx; ++i)
    xs[i] = i % 7 == 3 ? std::numeric_limits<T>::quiet_NaN() : std::round(xs[i] * 2) / 2;
  for (const std::vector<T>* in : {&x, &xs}) {
    std::vector<T> y_am(ny), y_only(ny, T(777));
    maxpool2d_forward<T>(s, in->data(), y_am.data(), am.data());
    maxpool2d_forward<T>(s, in->data(), y_only.data(), nullptr);
    bool same = true;
    for (size_t i = 0; i < ny && same; ++i)
      same = std::isnan(y_am[i]) ? std::isnan(y_only[i]) : y_am[i] == y_only[i] && std::signbit(y_am[i]) == std::signbit(y_only[i]);
    check(same, std::string("maxpool without argmax ") + (in == &x ? "" : "(NaN, ties) ") + what);
  }
  maxpool2d_forward<T>(s, x.data(), y.data(), am.data());
  maxpool2d_backward<T>(s, dy.data(), am.data(), dx.data());
  ref::maxpool2d_backward<T>(s, x.data(), dy.data(), want_dx.data());
  check_close(dx.data(), want_dx.data(), nx, tol, tol, "maxpool backward " + what);

  avgpool2d_forward<T>(s, x.data(), y.data());
  ref::avgpool2d_forward<T>(s, x.data(), want.data());
  check_close(y.data(), want.data(), ny, tol, tol, "avgpool forward " + what);
  std::fill(dx.begin(), dx.end(), T(777));
  avgpool2d_backward<T>(s, dy.data(), dx.data());
  ref::avgpool2d_backward<T>(s, dy.data(), want_dx.data());
  check_close(dx.data(), want_dx.data(), nx, tol, tol, "avgpool backward " + what);
}

template <typename T>
void check_global(int64_t N, int64_t HW, int64_t C) {
  const std::string what = std::string(type_name<T>()) + " N" + std::to_string(N) + " HW" +
                           std::to_string(HW) + " C" + std::to_string(C);
  const double tol = 16 * eps<T>();
  std::vector<T> x = random_vec<T>(N * HW * C), dy = random_vec<T>(N * C);
  std::vector<T> y(N * C), want(N * C), dx(N * HW * C, T(777)), want_dx(N * HW * C);
  std::vector<int32_t> am(N * C);
  global_avgpool2d_forward<T>(N, HW, C, x.data(), y.data());
  ref::global_avgpool2d_forward<T>(N, HW, C, x.data(), want.data());
  check_close(y.data(), want.data(), N * C, tol, tol, "global avg forward " + what);
  global_avgpool2d_backward<T>(N, HW, C, dy.data(), dx.data());
  ref::global_avgpool2d_backward<T>(N, HW, C, dy.data(), want_dx.data());
  check_close(dx.data(), want_dx.data(), N * HW * C, tol, tol, "global avg backward " + what);
  global_maxpool2d_forward<T>(N, HW, C, x.data(), y.data(), am.data());
  ref::global_maxpool2d_forward<T>(N, HW, C, x.data(), want.data());
  check_close(y.data(), want.data(), N * C, 0, 0, "global max forward " + what);
  std::fill(dx.begin(), dx.end(), T(777));
  global_maxpool2d_backward<T>(N, HW, C, dy.data(), am.data(), dx.data());
  ref::global_maxpool2d_backward<T>(N, HW, C, x.data(), dy.data(), want_dx.data());
  check_close(dx.data(), want_dx.data(), N * HW * C, 0, 0, "global max backward " + what);
}

template <typename T>
void check_upsampling(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh, int64_t sw,
                      int threads) {
  const size_t nx = N * H * W * C, ny = N * H * sh * W * sw * C;
  const double tol = 16 * eps<T>() * sh * sw;
  for (UpsampleMode mode : {UpsampleMode::Nearest, UpsampleMode::Bilinear,
                            UpsampleMode::BilinearLegacy}) {
    const std::string what = std::string(type_name<T>()) + " mode " +
                             std::to_string(int(mode)) + " threads=" + std::to_string(threads) +
                             " N" + std::to_string(N) + " " + std::to_string(H) + "x" +
                             std::to_string(W) + "x" + std::to_string(C) + " by " +
                             std::to_string(sh) + "x" + std::to_string(sw);
    std::vector<T> x = random_vec<T>(nx), dy = random_vec<T>(ny);
    std::vector<T> y(ny, T(777)), want(ny), dx(nx, T(777)), want_dx(nx);
    upsampling2d_forward<T>(N, H, W, C, sh, sw, mode, x.data(), y.data());
    ref::upsampling2d_forward<T>(N, H, W, C, sh, sw, mode, x.data(), want.data());
    check_close(y.data(), want.data(), ny, tol, tol, "upsampling forward " + what);
    upsampling2d_backward<T>(N, H, W, C, sh, sw, mode, dy.data(), dx.data());
    ref::upsampling2d_backward<T>(N, H, W, C, sh, sw, mode, dy.data(), want_dx.data());
    check_close(dx.data(), want_dx.data(), nx, tol, tol, "upsampling backward " + what);
    if constexpr (std::is_same<T, double>::value) {  // adjoint of the reference
      check(close(dot(x.data(), want_dx.data(), nx), dot(want.data(), dy.data(), ny), 1e-12,
                  1e-12),
            "ref upsampling adjoint " + what);
    }
  }
}

// Hand-computed values of tf.image.resize(bilinear) (half_pixel_centers=True) and of TF.js's
// resizeBilinear (half_pixel_centers=False) for a 1x2 row upsampled by 2.
void check_bilinear_values() {
  const float x[2] = {1.f, 3.f};
  float y[4];
  upsampling2d_forward<float>(1, 1, 2, 1, 1, 2, UpsampleMode::Bilinear, x, y);
  // sources -0.25, 0.25, 0.75, 1.25 -> clamp(1), 1.5, 2.5, clamp(3)
  const float want[4] = {1.f, 1.5f, 2.5f, 3.f};
  check_close(y, want, 4, 1e-6, 1e-6, "bilinear half-pixel values");
  upsampling2d_forward<float>(1, 1, 2, 1, 1, 2, UpsampleMode::BilinearLegacy, x, y);
  // sources 0, 0.5, 1, 1.5 -> 1, 2, 3, 3
  const float want_legacy[4] = {1.f, 2.f, 3.f, 3.f};
  check_close(y, want_legacy, 4, 1e-6, 1e-6, "bilinear legacy values");
}

// Max pooling picks NaN (as TF does) and the first maximum on ties.
void check_max_special() {
  Pool2dShape s{1, 2, 2, 1, 2, 2, 1, 1, 2, 2, 0, 0};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  float x[4] = {1.f, nan, 5.f, 2.f}, y[1];
  int32_t am[1];
  maxpool2d_forward<float>(s, x, y, am);
  check(std::isnan(y[0]) && am[0] == 1, "maxpool propagates NaN");
  float t[4] = {3.f, 1.f, 3.f, 3.f};
  maxpool2d_forward<float>(s, t, y, am);
  check(y[0] == 3.f && am[0] == 0, "maxpool takes the first maximum on ties");
}

// Backward passes never write where an out-of-range argmax points (an array in shared memory
// can change after the binding checked it): dx is guarded on both sides, bad entries are
// skipped, good ones still land.
void check_untrusted_argmax() {
  const Pool2dShape s{2, 4, 4, 3, 2, 2, 2, 2, 2, 2, 0, 0};
  const int64_t nx = s.N * s.H * s.W * s.C, ny = s.N * s.OH * s.OW * s.C, guard = 4096;
  std::vector<float> dy(ny, 1.0f), dx(nx + 2 * guard, 5.0f);
  std::vector<int32_t> am(ny);
  const int32_t bad[] = {16, 17, 1000000, -2, INT32_MIN, INT32_MAX, -1};
  for (int64_t i = 0; i < ny; ++i) am[i] = i % 2 ? bad[i % 7] : static_cast<int32_t>(i % 16);
  maxpool2d_backward<float>(s, dy.data(), am.data(), dx.data() + guard);
  bool guards_ok = true;
  for (int64_t i = 0; i < guard; ++i) guards_ok = guards_ok && dx[i] == 5.0f && dx[guard + nx + i] == 5.0f;
  check(guards_ok, "maxpool backward with bad argmax writes only inside dx");
  double sum = 0;
  for (int64_t i = 0; i < nx; ++i) sum += dx[guard + i];
  check(sum == static_cast<double>((ny + 1) / 2), "maxpool backward keeps the good entries");

  const int64_t N = 3, HW = 5, C = 4;
  std::vector<float> gdy(N * C, 2.0f), gdx(N * HW * C + 2 * guard, 5.0f);
  std::vector<int32_t> gam(N * C);
  for (int64_t i = 0; i < N * C; ++i) gam[i] = i % 2 ? bad[i % 7] : static_cast<int32_t>(i % HW);
  global_maxpool2d_backward<float>(N, HW, C, gdy.data(), gam.data(), gdx.data() + guard);
  guards_ok = true;
  for (int64_t i = 0; i < guard; ++i)
    guards_ok = guards_ok && gdx[i] == 5.0f && gdx[guard + N * HW * C + i] == 5.0f;
  check(guards_ok, "global max backward with bad argmax writes only inside dx");
  sum = 0;
  for (int64_t i = 0; i < N * HW * C; ++i) sum += gdx[guard + i];
  check(sum == 2.0 * ((N * C + 1) / 2), "global max backward keeps the good entries");
}

// The AVX-512 float max pooling (forward with argmax, backward) against the portable loops
// (kernel "ref") bit for bit: the same maxima, the same first-max / NaN argmax, the same sums
// in the same order. x has ties and NaN; the backward's argmax also holds entries the forward
// did not compute (positions outside the window, -1, outside the image), which the portable
// rule adds where inside the image.
void check_maxpool_isa_agree(const std::vector<Pool2dShape>& shapes, const char* isa) {
  if (set_gemm_kernel(isa) != SetKernelResult::Ok) {
    std::printf("test_pool: %s max pooling not compared (this CPU lacks the ISA)\n", isa);
    return;
  }
  for (const Pool2dShape& s : shapes) {
    const size_t nx = s.N * s.H * s.W * s.C, ny = s.N * s.OH * s.OW * s.C;
    std::vector<float> x = random_vec<float>(nx), dy = random_vec<float>(ny);
    for (size_t i = 0; i < nx; ++i)
      x[i] = i % 11 == 5 ? std::numeric_limits<float>::quiet_NaN() : std::round(x[i] * 3) / 3;
    std::vector<float> y[2], dx[2], dxu[2];
    std::vector<int32_t> am[2];
    std::vector<int32_t> untrusted;
    for (int k = 0; k < 2; ++k) {
      set_gemm_kernel(k == 0 ? "ref" : isa);
      y[k].assign(ny, 777.f);
      am[k].assign(ny, 12345);
      dx[k].assign(nx, 777.f);
      dxu[k].assign(nx, 777.f);
      maxpool2d_forward<float>(s, x.data(), y[k].data(), am[k].data());
      maxpool2d_backward<float>(s, dy.data(), am[k].data(), dx[k].data());
      if (k == 0) {
        untrusted = am[0];
        const int32_t hw = static_cast<int32_t>(s.H * s.W);
        for (size_t i = 0; i < ny; i += 3) untrusted[i] = static_cast<int32_t>((i * 7) % (hw + 2)) - 1;
      }
      maxpool2d_backward<float>(s, dy.data(), untrusted.data(), dxu[k].data());
    }
    const std::string what = std::string(isa) + " " + describe(s);
    auto same_bits = [](const std::vector<float>& a, const std::vector<float>& b) {
      for (size_t i = 0; i < a.size(); ++i)
        if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0 && !(std::isnan(a[i]) && std::isnan(b[i]))) return false;
      return true;
    };
    check(same_bits(y[0], y[1]), "maxpool forward = portable " + what);
    check(am[0] == am[1], "maxpool argmax = portable (first max, NaN) " + what);
    check(same_bits(dx[0], dx[1]), "maxpool backward = portable " + what);
    check(same_bits(dxu[0], dxu[1]), "maxpool backward, untrusted argmax = portable " + what);
  }
  set_gemm_kernel("auto");
}

}  // namespace

int main() {
  check_untrusted_argmax();
  std::vector<Pool2dShape> shapes;
  shapes.push_back({3, 13, 13, 5, 2, 2, 6, 6, 2, 2, 0, 0});   // the tutorial's 2x2 /2 valid
  shapes.push_back({1, 7, 5, 3, 3, 3, 4, 3, 2, 2, 1, 1});     // 3x3 /2 same
  shapes.push_back({3, 5, 7, 1, 1, 1, 5, 7, 1, 1, 0, 0});     // 1x1 window
  shapes.push_back({1, 1, 1, 3, 5, 5, 1, 1, 3, 3, 2, 2});     // 1x1 image, same
  shapes.push_back({2, 9, 9, 37, 3, 3, 4, 4, 2, 2, 0, 0});    // C across 16-lane runs and a tail
  shapes.push_back({2, 8, 8, 13, 2, 2, 4, 4, 2, 2, 0, 0});    // one 8-lane run and a 5-channel tail
  shapes.push_back({1, 6, 6, 8, 3, 3, 3, 3, 2, 2, 1, 1});     // C one 8-lane run; edges clipped
  shapes.push_back({1, 6, 6, 16, 2, 2, 4, 4, 2, 2, 1, 1});    // C one run; edge windows clipped
  for (int i = 0; i < 300; ++i) shapes.push_back(random_pool());
  for (const Pool2dShape& s : shapes) check_pool_adjoint(s);
  // The vector loops against the portable ones: the shapes above (their C < 8 runs only the
  // tails) and random geometries with whole 8- and 16-lane runs plus tails.
  std::vector<Pool2dShape> isa_shapes = shapes;
  for (int i = 0; i < 150; ++i) {
    Pool2dShape s = random_pool();
    s.C = pick<int64_t>({8, 11, 16, 19, 24, 37});
    isa_shapes.push_back(s);
  }
  check_maxpool_isa_agree(isa_shapes, "avx2");
  check_maxpool_isa_agree(isa_shapes, "avx512");
  check_bilinear_values();
  check_max_special();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (const Pool2dShape& s : shapes) check_pool<double>(s, threads);
    // Every float kernel this CPU runs (max pooling without argmax has its own per ISA).
    for (const char* kernel : {"ref", "avx2", "avx512", "auto"}) {
      if (set_gemm_kernel(kernel) != SetKernelResult::Ok) {
        std::printf("test_pool: %s kernels not run (this CPU lacks the ISA)\n", kernel);
        continue;
      }
      for (const Pool2dShape& s : shapes) check_pool<float>(s, threads);
    }
    // Big enough to run on several threads.
    check_pool<float>({8, 26, 26, 32, 2, 2, 13, 13, 2, 2, 0, 0}, threads);
    for (int64_t N : {1, 3})
      for (int64_t HW : {1, 7, 25})
        for (int64_t C : {1, 5, 33}) {
          check_global<float>(N, HW, C);
          check_global<double>(N, HW, C);
        }
    check_global<float>(16, 169, 64);
    for (int64_t sh : {1, 2, 3})
      for (int64_t sw : {1, 2, 3}) {
        check_upsampling<float>(3, 5, 7, 3, sh, sw, threads);
        check_upsampling<double>(1, 1, 5, 2, sh, sw, threads);
        check_upsampling<double>(3, 7, 1, 1, sh, sw, threads);
      }
    check_upsampling<float>(4, 13, 13, 32, 2, 2, threads);
  }
  return finish("test_pool");
}

// Float sigmoid / tanh spans (cpu/rnn_act.h) against double std::tanh and 1 / (1 + exp(-x)):
// for every version this CPU can run, a dense sweep over [-20, 20], a log sweep of small
// magnitudes, random values, the saturating ends, NaN, signed zero, and every length 0..70
// in place and out of place (tails must not write past n).
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "cpu/cpu_features.h"
#include "cpu/rnn_act.h"
#include "test_util.h"

using namespace gf;
using namespace gf::test;

namespace {

double ref_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double ref_tanh(double x) { return std::tanh(x); }

using Span = void (*)(GemmKernel, const float*, float*, int64_t);

struct Fn {
  const char* name;
  Span span;
  double (*ref)(double);
};

const Fn kFns[] = {{"sigmoid", sigmoid_span_f32_isa, ref_sigmoid},
                   {"tanh", tanh_span_f32_isa, ref_tanh}};

// Spacing of floats at |v| (v rounded to float first).
double ulp_at(double v) {
  const float a = std::fabs(static_cast<float>(v));
  return double(std::nextafter(a, std::numeric_limits<float>::infinity())) - double(a);
}

std::vector<float> sweep_inputs() {
  std::vector<float> xs;
  for (int64_t k = -20 * 8192; k <= 20 * 8192; ++k) xs.push_back(float(k) / 8192.0f);  // 2^-13 steps
  for (double m = 1e-38; m < 20.0; m *= 1.0001) {  // small magnitudes, both signs
    xs.push_back(float(m));
    xs.push_back(-float(m));
  }
  auto r1 = random_vec<float>(200000, -20.0, 20.0);
  auto r2 = random_vec<float>(20000, -100.0, 100.0);
  auto r3 = random_vec<float>(20000, -1.0, 1.0);
  xs.insert(xs.end(), r1.begin(), r1.end());
  xs.insert(xs.end(), r2.begin(), r2.end());
  xs.insert(xs.end(), r3.begin(), r3.end());
  return xs;
}

void check_accuracy(GemmKernel isa, const Fn& fn, const std::vector<float>& xs) {
  const std::string what = std::string(fn.name) + " " + gemm_kernel_name(isa);
  std::vector<float> y(xs.size());
  fn.span(isa, xs.data(), y.data(), int64_t(xs.size()));
  double max_abs = 0, max_ulp = 0, x_abs = 0, x_ulp = 0;
  bool range_ok = true;
  const double lo = std::string(fn.name) == "tanh" ? -1.0 : 0.0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = fn.ref(double(xs[i])), got = double(y[i]);
    const double ae = std::fabs(got - want);
    if (ae > max_abs) { max_abs = ae; x_abs = xs[i]; }
    if (std::fabs(want) >= FLT_MIN) {
      const double ue = ae / ulp_at(want);
      if (ue > max_ulp) { max_ulp = ue; x_ulp = xs[i]; }
    }
    if (!(got >= lo && got <= 1.0)) range_ok = false;
  }
  std::printf("  %-16s %zu values: max abs err %.3g (at x=%.9g), max rel err %.2f ulp (at x=%.9g)\n",
              what.c_str(), xs.size(), max_abs, x_abs, max_ulp, x_ulp);
  char buf[200];
  std::snprintf(buf, sizeof buf, ": max abs err %.3g at x=%.9g", max_abs, x_abs);
  check(max_abs <= 2e-7, what + buf);
  std::snprintf(buf, sizeof buf, ": max rel err %.2f ulp at x=%.9g", max_ulp, x_ulp);
  check(max_ulp <= 4.0, what + buf);
  check(range_ok, what + ": a value outside the range");
}

void check_special(GemmKernel isa) {
  const std::string tag = gemm_kernel_name(isa);
  const float inf = std::numeric_limits<float>::infinity();
  const float qnan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> xs = {inf,  -inf,   qnan,   -qnan, 0.0f, -0.0f, FLT_MAX, -FLT_MAX,
                                 1e30f, -1e30f, 100.0f, -100.0f, 88.0f, -88.0f, 87.5f, -87.5f,
                                 50.0f, -50.0f, 20.0f, -20.0f, 10.0f, -10.0f, 1e-30f, -1e-30f,
                                 FLT_MIN, -FLT_MIN, 1e-45f, -1e-45f};
  std::vector<float> s(xs.size()), t(xs.size());
  sigmoid_span_f32_isa(isa, xs.data(), s.data(), int64_t(xs.size()));
  tanh_span_f32_isa(isa, xs.data(), t.data(), int64_t(xs.size()));
  for (size_t i = 0; i < xs.size(); ++i) {
    const float x = xs[i];
    auto msg = [&](const char* f, float got) {
      char b[160];
      std::snprintf(b, sizeof b, "%s %s(%.9g) = %.9g", tag.c_str(), f, double(x), double(got));
      return std::string(b);
    };
    if (std::isnan(x)) {
      check(std::isnan(s[i]), msg("sigmoid", s[i]));
      check(std::isnan(t[i]), msg("tanh", t[i]));
      continue;
    }
    // tanh: exactly +-1 from |x| >= 10 (true value within 2e-9 of it), sign of zero kept.
    if (std::fabs(x) >= 10.0f) check(t[i] == (x > 0 ? 1.0f : -1.0f), msg("tanh", t[i]));
    else check(std::fabs(double(t[i]) - std::tanh(double(x))) <= 2e-7, msg("tanh", t[i]));
    if (x == 0.0f) check(t[i] == 0.0f && std::signbit(t[i]) == std::signbit(x), msg("tanh", t[i]));
    // sigmoid: exactly 1 from x >= 20, 0 at -inf, within 1e-38 of 0 below -87.
    if (x >= 20.0f) check(s[i] == 1.0f, msg("sigmoid", s[i]));
    else if (x == -inf) check(s[i] == 0.0f, msg("sigmoid", s[i]));
    else if (x <= -87.0f) check(s[i] >= 0.0f && s[i] <= 1e-38f, msg("sigmoid", s[i]));
    else check(std::fabs(double(s[i]) - ref_sigmoid(double(x))) <= 2e-7, msg("sigmoid", s[i]));
    if (x == 0.0f) check(s[i] == 0.5f, msg("sigmoid", s[i]));
  }
}

// Every length 0..70 at an odd offset: in place equals out of place equals the long run, and
// nothing past n is written.
void check_lengths(GemmKernel isa) {
  const std::string tag = gemm_kernel_name(isa);
  const auto src = random_vec<float>(80, -6.0, 6.0);
  for (const Fn& fn : kFns) {
    std::vector<float> full(80);
    fn.span(isa, src.data(), full.data(), 80);
    for (int64_t n = 0; n <= 70; ++n) {
      std::vector<float> out(80, 7.0f), inplace(80, 7.0f);
      for (int64_t i = 0; i < n; ++i) inplace[1 + i] = src[1 + i];
      fn.span(isa, src.data() + 1, out.data() + 1, n);
      fn.span(isa, inplace.data() + 1, inplace.data() + 1, n);
      bool ok = out[0] == 7.0f && inplace[0] == 7.0f;
      for (int64_t i = 0; i < n; ++i)
        ok = ok && out[1 + i] == full[1 + i] && inplace[1 + i] == full[1 + i];
      for (int64_t i = 1 + n; i < 80; ++i) ok = ok && out[i] == 7.0f && inplace[i] == 7.0f;
      check(ok, tag + " " + fn.name + " length " + std::to_string(n));
    }
  }
}

}  // namespace

int main() {
  std::printf("test_rnn_act: dispatch uses %s\n", gemm_kernel_name(current_gemm_kernel()));
  const std::vector<float> xs = sweep_inputs();
  for (GemmKernel isa : {GemmKernel::Avx512, GemmKernel::Avx2, GemmKernel::Ref}) {
    if (!gemm_kernel_available(isa)) {
      std::printf("  %s: not available on this CPU, skipped\n", gemm_kernel_name(isa));
      continue;
    }
    for (const Fn& fn : kFns) check_accuracy(isa, fn, xs);
    check_special(isa);
    check_lengths(isa);
  }
  // The dispatched entry points run the chosen version.
  std::vector<float> a(xs.size()), b(xs.size());
  sigmoid_span_f32(xs.data(), a.data(), int64_t(xs.size()));
  sigmoid_span_f32_isa(current_gemm_kernel(), xs.data(), b.data(), int64_t(xs.size()));
  check(a == b, "sigmoid_span_f32 runs the chosen version");
  tanh_span_f32(xs.data(), a.data(), int64_t(xs.size()));
  tanh_span_f32_isa(current_gemm_kernel(), xs.data(), b.data(), int64_t(xs.size()));
  check(a == b, "tanh_span_f32 runs the chosen version");
  return finish("test_rnn_act");
}

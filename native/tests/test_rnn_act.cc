// Float sigmoid / tanh spans (cpu/rnn_act.h) against double std::tanh and 1 / (1 + exp(-x)):
// for every version this CPU can run, a dense sweep over [-20, 20], a log sweep of small
// magnitudes, random values, the saturating ends, NaN, signed zero, and every length 0..70
// in place and out of place (tails must not write past n).
// The backward gate-gradient rows (rnn_act.h's RnnGradRowsF32): every version gives the bits of
// rnn_grad.h's scalar loops (the LSTM's with the same ISA's tanh of c_t) for every U in 0..70
// and a few long rows, with and without dy, with signed zeros, in place (dg == g, as rnn.cc
// calls them) as out of place, and writes nothing past U.
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cpu/cpu_features.h"
#include "cpu/rnn_act.h"
#include "cpu/rnn_grad.h"
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

// A row buffer of n values with sentinels around it, so a write past either end shows.
struct Row {
  static constexpr int64_t kPad = 17;
  std::vector<float> v;
  Row(int64_t n, double lo, double hi) : v(random_vec<float>(n + 2 * kPad, lo, hi)) {
    for (int64_t i = 0; i < kPad; ++i) v[i] = v[v.size() - 1 - i] = 7.0f;
    if (n > 2) v[kPad] = 0.0f, v[kPad + 1] = -0.0f;  // signed zeros go through as the loops do
  }
  float* p() { return v.data() + kPad; }
};

bool same_bits(const Row& a, const Row& b) {
  return a.v.size() == b.v.size() && std::memcmp(a.v.data(), b.v.data(), a.v.size() * 4) == 0;
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// The first n values of two rows have the same bits, and a's sentinels are intact.
bool same_prefix(const Row& a, const Row& b, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (bits(a.v[Row::kPad + i]) != bits(b.v[Row::kPad + i])) return false;
  for (int64_t i = 0; i < Row::kPad; ++i)
    if (a.v[i] != 7.0f || a.v[a.v.size() - 1 - i] != 7.0f) return false;
  return true;
}

// rnn_grad::lstm with act(c_t) from the given ISA's tanh span (the vector rows recompute it
// with their own tanh; the scalar template uses std::tanh).
void lstm_row_ref(GemmKernel isa, const float* g, const float* cp, const float* dy, int64_t U,
                  float* dh, float* dc, float* dg) {
  std::vector<float> ac(U);
  for (int64_t u = 0; u < U; ++u) ac[u] = g[U + u] * cp[u] + g[u] * g[2 * U + u];
  tanh_span_f32_isa(isa, ac.data(), ac.data(), U);
  for (int64_t u = 0; u < U; ++u) {
    const float i = g[u], f = g[U + u], gg = g[2 * U + u], o = g[3 * U + u];
    const float dht = dh[u] + (dy ? dy[u] : 0.0f);
    const float dct = dc[u] + dht * o * (1.0f - ac[u] * ac[u]);
    dg[u] = dct * gg * (i * (1.0f - i));
    dg[U + u] = dct * cp[u] * (f * (1.0f - f));
    dg[2 * U + u] = dct * i * (1.0f - gg * gg);
    dg[3 * U + u] = dht * ac[u] * (o * (1.0f - o));
    dc[u] = dct * f;
    dh[u] = 0.0f;
  }
}

void check_grad_rows(GemmKernel isa) {
  const std::string tag = gemm_kernel_name(isa);
  const RnnGradRowsF32 rows = rnn_grad_rows_f32_isa(isa);
  std::vector<int64_t> lengths;
  for (int64_t U = 0; U <= 70; ++U) lengths.push_back(U);
  lengths.push_back(256);
  lengths.push_back(1001);
  for (int64_t U : lengths) {
    for (bool with_dy : {true, false}) {
      const std::string what = tag + " U=" + std::to_string(U) + (with_dy ? " dy" : " no dy");
      // gates: sigmoid outputs in (0, 1), tanh outputs in (-1, 1), states and gradients in (-2, 2)
      Row g(4 * U, 0.0, 1.0), cp(U, -2, 2), hs(U, -2, 2), rech(U, -2, 2), dy(U, -1, 1);
      for (int64_t u = 0; u < U; ++u) g.p()[2 * U + u] = 2.0f * g.p()[2 * U + u] - 1.0f;
      const float* pdy = with_dy ? dy.p() : nullptr;
      Row dh(U, -2, 2), dc(U, -2, 2), dg(4 * U, -1, 1), dr(3 * U, -1, 1);
      {  // LSTM
        Row dh1 = dh, dc1 = dc, dg1 = dg, dh2 = dh, dc2 = dc, dg2 = dg;
        rows.lstm(g.p(), cp.p(), pdy, U, dh1.p(), dc1.p(), dg1.p());
        lstm_row_ref(isa, g.p(), cp.p(), pdy, U, dh2.p(), dc2.p(), dg2.p());
        check(same_bits(dh1, dh2) && same_bits(dc1, dc2) && same_bits(dg1, dg2), "lstm row " + what);
        Row dh3 = dh, dc3 = dc, in = g;
        rows.lstm(in.p(), cp.p(), pdy, U, dh3.p(), dc3.p(), in.p());
        check(same_bits(dh3, dh1) && same_bits(dc3, dc1) && same_prefix(in, dg1, 4 * U), "lstm row in place " + what);
      }
      {  // GRU reset_after
        Row dh1 = dh, dg1 = dg, dr1 = dr, dh2 = dh, dg2 = dg, dr2 = dr;
        rows.gru_reset_after(g.p(), hs.p(), rech.p(), pdy, U, dh1.p(), dg1.p(), dr1.p());
        rnn_grad::gru_reset_after<float>(g.p(), hs.p(), rech.p(), pdy, U, dh2.p(), dg2.p(), dr2.p());
        check(same_bits(dh1, dh2) && same_bits(dg1, dg2) && same_bits(dr1, dr2), "gru reset_after row " + what);
        Row dh3 = dh, dr3 = dr, in = g;
        rows.gru_reset_after(in.p(), hs.p(), rech.p(), pdy, U, dh3.p(), in.p(), dr3.p());
        check(same_bits(dh3, dh1) && same_bits(dr3, dr1) && same_prefix(in, dg1, 3 * U),
              "gru reset_after row in place " + what);
      }
      {  // GRU reset_before, both halves; the second with dh and without (d(hd) kept in drh)
        Row dh1 = dh, dg1 = dg, dh2 = dh, dg2 = dg;
        rows.gru_reset_before_zh(g.p(), hs.p(), pdy, U, dh1.p(), dg1.p());
        rnn_grad::gru_reset_before_zh<float>(g.p(), hs.p(), pdy, U, dh2.p(), dg2.p());
        check(same_bits(dh1, dh2) && same_bits(dg1, dg2), "gru reset_before z, h row " + what);
        Row in = g, dh3 = dh;
        rows.gru_reset_before_zh(in.p(), hs.p(), pdy, U, dh3.p(), in.p());
        bool ok = same_bits(dh3, dh1);
        for (int64_t u = 0; u < U; ++u)  // z and h~ slots written, r's still the gate
          ok = ok && bits(in.p()[u]) == bits(dg1.p()[u]) && bits(in.p()[2 * U + u]) == bits(dg1.p()[2 * U + u]) &&
               bits(in.p()[U + u]) == bits(g.p()[U + u]);
        rows.gru_reset_before_r(in.p(), hs.p(), rech.p(), U, dh3.p(), in.p());
        Row d4 = rech, dh4 = dh1, dg4 = dg1;
        rows.gru_reset_before_r(g.p(), hs.p(), d4.p(), U, dh4.p(), dg4.p());
        for (int64_t u = 0; u < 3 * U; ++u) ok = ok && bits(in.p()[u]) == bits(dg4.p()[u]);
        check(ok && same_bits(dh3, dh4), "gru reset_before rows in place " + what);
        for (bool to_dh : {true, false}) {
          Row d1 = rech, d2 = rech, e1 = dh, e2 = dh, f1 = dg, f2 = dg;
          rows.gru_reset_before_r(g.p(), hs.p(), d1.p(), U, to_dh ? e1.p() : nullptr, f1.p());
          rnn_grad::gru_reset_before_r<float>(g.p(), hs.p(), d2.p(), U, to_dh ? e2.p() : nullptr, f2.p());
          check(same_bits(d1, d2) && same_bits(e1, e2) && same_bits(f1, f2),
                "gru reset_before r row " + what + (to_dh ? " into dh" : " into drh"));
        }
      }
      {  // SimpleRNN
        Row dh1 = dh, dg1 = dg, dh2 = dh, dg2 = dg;
        rows.simple_rnn(rech.p(), pdy, U, dh1.p(), dg1.p());
        rnn_grad::simple_rnn<float>(rech.p(), pdy, U, dh2.p(), dg2.p());
        check(same_bits(dh1, dh2) && same_bits(dg1, dg2), "simpleRNN row " + what);
        Row dh3 = dh, in = rech;
        rows.simple_rnn(in.p(), pdy, U, dh3.p(), in.p());
        check(same_bits(dh3, dh1) && same_prefix(in, dg1, U), "simpleRNN row in place " + what);
      }
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
    check_grad_rows(isa);
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

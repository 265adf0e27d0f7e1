// CUDA elementwise kernels (native/cuda/elementwise.cu) against the references.
// Unary: every UnaryOp forward against ref::unary and backward against ref::unary_backward
// (which differentiates from x in double; the kernel uses the CPU's formulas, from y where the
// CPU does, and is given y = ref::unary(x)), with the ops' parameters set (leakyRelu/elu
// slope, clip bounds, powScalar exponents 3, 0.5 and 0, scale), on random data with NaN, +-Inf,
// +-0, +-90, +-1e-30 and the clip bounds mixed in; sizes 1, 7, 33, 1000, 4097 (and 2^20 + 3), out of place over
// NaN-poisoned outputs and in place, guard floats after each output.
// Binary: every BinaryOp with NumPy broadcasting against ref::binary: same shapes, scalar on
// either side, row and column broadcasts, rank mismatch, size-1 dims on both sides, rank 8, an
// empty output; operands quantised to halves (so ==, >=, <= tie often and pow meets integer
// and fractional exponents of negative bases) with NaN/Inf/-0 mixed in; in place on a too.
// The bias add + relu over (rows, cols) against a host loop, with and without bias and relu.
// Tolerances: ops that are one IEEE rounding of exact operands (neg, abs, relu, sign, square,
// reciprocal, sqrt, leakyRelu, clip, + - * /, comparisons) must match exactly (the double
// reference rounds once too, and float-through-double rounding is innocuous for + - * /);
// transcendental ops (expf, logf, tanhf, expm1f, log1pf: <= 2 ulp on the device, composed in
// sigmoid/softplus/elu up to ~3 roundings) get 8 eps relative; powf 8 eps; scale (maybe fused
// into an fma) 2 eps relative plus 8 eps absolute for cancellation. Backward: the kernel starts
// from y rounded to float, so a derivative like y(1 - y), 1 - y^2 or y + alpha (elu/selu near
// their asymptotes) loses relative accuracy but not absolute: 8 eps relative plus 8 eps
// (times max(1, |alpha|)) absolute with |dy| <= 1; 1e-37 absolute everywhere for denormals.
// No device: "SKIP: <reason>", exit 77. GF_CUDA_SMALL=1 (always in the emulation): small sizes.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "cuda/elementwise.h"
#include "cuda/testing.h"
#include "ref/ref.h"
#include "tests/test_util.h"

// GF_CUDA_EMULATED_TEST: also runs over the host emulation (test_cuda_emulated elementwise).
namespace elementwise_test {

using namespace gf;
using namespace gf::test;
namespace ct = gf::cuda::testing;

constexpr size_t kGuard = 8;

std::vector<float> data(size_t n) {
  std::vector<float> x = random_vec<float>(n, -6.0, 6.0);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), -0.0f, 0.0f, 90.0f, -90.0f, 1e-30f, -1e-30f,
                            -1.0f, 2.5f};  // the clip bounds of the test: bounds pass the gradient
  for (size_t i = 0; i < n; i += 13) x[i] = specials[(i / 13) % (sizeof specials / sizeof specials[0])];
  return x;
}

struct UnaryCase {
  UnaryOp op;
  const char* name;
  float alpha, beta;
};

// Relative/absolute tolerances of one op (see the header comment).
void unary_tolerance(UnaryOp op, float alpha, bool backward, double* atol, double* rtol) {
  const double e = eps<float>();
  *atol = 1e-37;
  switch (op) {
    case UnaryOp::Neg: case UnaryOp::Abs: case UnaryOp::Relu: case UnaryOp::Sign:
    case UnaryOp::Square: case UnaryOp::Reciprocal: case UnaryOp::Sqrt: case UnaryOp::LeakyRelu:
    case UnaryOp::Clip:
      *rtol = backward ? 6 * e : 0.0;  // backward: y * y, 0.5 / y: up to three roundings
      if (!backward) *atol = 0.0;
      return;
    case UnaryOp::Scale:
      *rtol = 2 * e;
      *atol = backward ? 1e-37 : 8 * e;
      return;
    case UnaryOp::Elu: case UnaryOp::Selu:
      // ref::unary forms alpha * (exp(x) - 1) in double: ~2 * 2^-53 * alpha absolute near 0,
      // where the kernel's expm1f is accurate (x = -1e-30 gives -1e-30 * alpha, ref 0).
      *rtol = 8 * e;
      *atol = backward ? 8 * e * (std::fabs(double(alpha)) + 2.0) : 1e-15;
      return;
    default:
      *rtol = 8 * e;
      if (backward) *atol = 8 * e * std::max(1.0, std::fabs(double(alpha)) + 1.0);
      return;
  }
}

// Runs one launch (forward or backward, in place or not) and compares with want.
void check_unary(const UnaryCase& c, size_t n, bool backward, bool inplace, cudaStream_t stream) {
  const std::vector<float> x = data(n), dy = random_vec<float>(n, -1.0, 1.0);
  std::vector<float> y(n), want(n);
  ref::unary<float>(c.op, x.data(), y.data(), static_cast<int64_t>(n), c.alpha, c.beta);
  if (backward) ref::unary_backward<float>(c.op, x.data(), dy.data(), want.data(), static_cast<int64_t>(n), c.alpha, c.beta);
  else want = y;
  // exp: where f(x) overflowed float, the CPU's dy * y is +-Inf while the reference, from x
  // in double, is finite: the CPU's rule is the contract.
  if (backward && c.op == UnaryOp::Exp)
    for (size_t i = 0; i < n; ++i)
      if (std::isinf(y[i])) want[i] = dy[i] * y[i];
  double atol, rtol;
  unary_tolerance(c.op, c.alpha, backward, &atol, &rtol);
  char what[160];
  std::snprintf(what, sizeof what, "cuda::unary_%s(%s, alpha=%g, beta=%g) n=%zu%s", backward ? "backward" : "forward",
                c.name, c.alpha, c.beta, n, inplace ? " in place" : "");
  cuda::DeviceBuffer bx, by, bdy, bo;
  float *dx = nullptr, *dyv = nullptr, *dg = nullptr, *dout = nullptr;
  if (!ct::upload(x, 0, kGuard, stream, &bx, &dx)) return;
  if (backward && (!ct::upload(y, 0, 0, stream, &by, &dyv) || !ct::upload(dy, 0, kGuard, stream, &bdy, &dg))) return;
  if (inplace) dout = backward ? dg : dx;  // the headers allow out == x and dx == dy
  else if (!ct::upload(std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()), 0, kGuard, stream, &bo, &dout)) return;
  const cudaError_t e = backward ? cuda::unary_backward(c.op, dx, dyv, dg, dout, static_cast<int64_t>(n), c.alpha, c.beta, stream)
                                 : cuda::unary_forward(c.op, dx, dout, static_cast<int64_t>(n), c.alpha, c.beta, stream);
  if (!ct::ok(e, what)) return;
  std::vector<float> got;
  if (!ct::download(dout, n, stream, &got)) return;
  check_close(got.data(), want.data(), n, atol, rtol, what);
  // relu: the sign of zero is kept (-0 stays -0), as on the CPU.
  if (c.op == UnaryOp::Relu && !backward)
    for (size_t i = 0; i < n; ++i)
      if (x[i] == 0.0f && std::signbit(got[i]) != std::signbit(x[i])) {
        fail(std::string(what) + ": relu(-0) must stay -0 at " + std::to_string(i));
        break;
      }
  ct::guard_intact(dout, n, kGuard, stream, std::string(what) + " (guard)");
}

// Values in halves within [-3, 3] (ties and integer exponents are common), specials mixed in.
std::vector<float> halves(size_t n) {
  std::vector<float> v = random_vec<float>(n, -3.0, 3.0);
  const float sp[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                      -std::numeric_limits<float>::infinity(), -0.0f, 0.0f};
  for (size_t i = 0; i < n; ++i) v[i] = std::round(v[i] * 2.0f) / 2.0f;
  for (size_t i = 5; i < n; i += 17) v[i] = sp[(i / 17) % 5];
  return v;
}

size_t numel(const std::vector<int64_t>& s) {
  size_t t = 1;
  for (int64_t d : s) t *= static_cast<size_t>(d);
  return t;
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

// The broadcast shape of a and b (the test's shapes always broadcast).
std::vector<int64_t> broadcast(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> o(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i + a.size() >= r ? a[i + a.size() - r] : 1, db = i + b.size() >= r ? b[i + b.size() - r] : 1;
    o[i] = da == 1 ? db : da;
  }
  return o;
}

void check_binary(BinaryOp op, const char* name, const std::vector<int64_t>& as, const std::vector<int64_t>& bs,
                  bool inplace, cudaStream_t stream) {
  const std::vector<int64_t> os = broadcast(as, bs);
  const size_t na = numel(as), nb = numel(bs), n = numel(os);
  inplace = inplace && na == n;
  const std::vector<float> a = halves(na), b = halves(nb);
  std::vector<float> want(n);
  ref::binary<float>(op, a.data(), as.data(), static_cast<int>(as.size()), b.data(), bs.data(), static_cast<int>(bs.size()),
                     want.data(), os.data(), static_cast<int>(os.size()));
  const double tol = op == BinaryOp::Pow ? 8 * eps<float>() : 0.0;
  const std::string what = std::string("cuda::binary_forward(") + name + ") " + shape_str(as) + " " + shape_str(bs) +
                           " -> " + shape_str(os) + (inplace ? " in place" : "");
  cuda::DeviceBuffer ba, bb, bo;
  float *da = nullptr, *db = nullptr, *dout = nullptr;
  // a at float offset 1 (misaligned for float4), b at 0.
  if (!ct::upload(a, 1, kGuard, stream, &ba, &da) || !ct::upload(b, 0, kGuard, stream, &bb, &db)) return;
  if (inplace) dout = da;
  else if (!ct::upload(std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()), 0, kGuard, stream, &bo, &dout)) return;
  if (!ct::ok(cuda::binary_forward(op, da, as.data(), static_cast<int>(as.size()), db, bs.data(), static_cast<int>(bs.size()),
                                   dout, os.data(), static_cast<int>(os.size()), stream),
              what))
    return;
  std::vector<float> got;
  if (!ct::download(dout, n, stream, &got)) return;
  check_close(got.data(), want.data(), n, tol, tol, what);
  ct::guard_intact(dout, n, kGuard, stream, what + " (guard)");
  if (!inplace) ct::guard_intact(db, nb, kGuard, stream, what + " (b untouched past its end)");
}

void check_bias_add(int64_t rows, int64_t cols, bool with_bias, bool relu, bool inplace, cudaStream_t stream) {
  const size_t n = static_cast<size_t>(rows * cols);
  const std::vector<float> x = data(n), bias = random_vec<float>(static_cast<size_t>(cols), -2.0, 2.0);
  std::vector<float> want(n);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      float v = x[r * cols + c];
      if (with_bias) v += bias[c];
      if (relu) v = v < 0.0f ? 0.0f : v;
      want[r * cols + c] = v;
    }
  char what[160];
  std::snprintf(what, sizeof what, "cuda::bias_add_forward rows=%lld cols=%lld bias=%d relu=%d inplace=%d",
                (long long)rows, (long long)cols, with_bias, relu, inplace);
  cuda::DeviceBuffer bx, bb, bo;
  float *dx = nullptr, *db = nullptr, *dout = nullptr;
  if (!ct::upload(x, 0, kGuard, stream, &bx, &dx) || !ct::upload(bias, 0, 0, stream, &bb, &db)) return;
  if (inplace) dout = dx;
  else if (!ct::upload(std::vector<float>(n, 0.0f), 0, kGuard, stream, &bo, &dout)) return;
  if (!inplace) ct::ok(cudaMemsetAsync(dout, 0xFF, n * sizeof(float), stream), "poison");
  if (!ct::ok(cuda::bias_add_forward(dx, with_bias ? db : nullptr, dout, rows, cols, relu, stream), what)) return;
  std::vector<float> got;
  if (!ct::download(dout, n, stream, &got)) return;
  check_close(got.data(), want.data(), n, 0.0, 0.0, what);  // one rounding, as on the host: exact
  ct::guard_intact(dout, n, kGuard, stream, std::string(what) + " (guard)");
}

int run(const char* name) {
  if (!ct::device_or_skip(name)) return ct::kSkipExit;
  const bool small = ct::small_mode();
  cudaStream_t stream = nullptr;
  if (!ct::ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return finish(name);

  const UnaryCase ops[] = {
      {UnaryOp::Neg, "neg", 0, 0},          {UnaryOp::Exp, "exp", 0, 0},
      {UnaryOp::Log, "log", 0, 0},          {UnaryOp::Sqrt, "sqrt", 0, 0},
      {UnaryOp::Abs, "abs", 0, 0},          {UnaryOp::Square, "square", 0, 0},
      {UnaryOp::Reciprocal, "reciprocal", 0, 0}, {UnaryOp::Sign, "sign", 0, 0},
      {UnaryOp::Relu, "relu", 0, 0},        {UnaryOp::LeakyRelu, "leakyRelu", 0.2f, 0},
      {UnaryOp::Elu, "elu", 1.3f, 0},       {UnaryOp::Selu, "selu", 0, 0},
      {UnaryOp::Sigmoid, "sigmoid", 0, 0},  {UnaryOp::Tanh, "tanh", 0, 0},
      {UnaryOp::Softplus, "softplus", 0, 0}, {UnaryOp::Clip, "clip", -1.0f, 2.5f},
      {UnaryOp::PowScalar, "powScalar", 3.0f, 0}, {UnaryOp::PowScalar, "powScalar", 0.5f, 0},
      {UnaryOp::PowScalar, "powScalar", 0.0f, 0}, {UnaryOp::Scale, "scale", 1.5f, -0.5f},
      {UnaryOp::Log1p, "log1p", 0, 0},      {UnaryOp::LogSigmoid, "logSigmoid", 0, 0}};
  const size_t sizes[] = {1, 7, 33, 1000, 4097};
  const int ns = sizeof sizes / sizeof sizes[0];
  int idx = 0;
  for (const UnaryCase& c : ops) {
    check(cuda::unary_supported(c.op), std::string("unary_supported(") + c.name + ")");
    // Every size both ways; one size a op (rotating) also in place.
    for (int s = 0; s < ns; ++s)
      for (int bw = 0; bw < 2; ++bw) {
        check_unary(c, sizes[s], bw != 0, false, stream);
        if (!small || s == idx % ns) check_unary(c, sizes[s], bw != 0, true, stream);
      }
    if (!small) for (int bw = 0; bw < 2; ++bw) check_unary(c, (size_t(1) << 20) + 3, bw != 0, false, stream);
    ++idx;
  }
  const UnaryOp bad = static_cast<UnaryOp>(99);
  check(!cuda::unary_supported(bad) && cuda::unary_forward(bad, nullptr, nullptr, 4, stream) == cudaErrorNotSupported &&
            cuda::unary_backward(bad, nullptr, nullptr, nullptr, nullptr, 4, 0, 0, stream) == cudaErrorNotSupported,
        "an op outside the enum is refused without a launch");
  check(cuda::unary_forward(UnaryOp::Relu, nullptr, nullptr, 0, stream) == cudaSuccess, "n = 0 does nothing");
  check(cuda::unary_backward(UnaryOp::Exp, nullptr, nullptr, nullptr, nullptr, 0, 0, 0, stream) == cudaSuccess,
        "backward n = 0 does nothing");

  const struct { BinaryOp op; const char* name; } bops[] = {
      {BinaryOp::Add, "add"}, {BinaryOp::Sub, "sub"}, {BinaryOp::Mul, "mul"}, {BinaryOp::Div, "div"},
      {BinaryOp::Pow, "pow"}, {BinaryOp::Maximum, "maximum"}, {BinaryOp::Minimum, "minimum"},
      {BinaryOp::Greater, "greater"}, {BinaryOp::GreaterEqual, "greaterEqual"}, {BinaryOp::Less, "less"},
      {BinaryOp::LessEqual, "lessEqual"}, {BinaryOp::Equal, "equal"}};
  const int nb = sizeof bops / sizeof bops[0];
  using S = std::vector<int64_t>;
  const struct { S a, b; } shapes[] = {
      {{1000}, {1000}},                      // same shape: one flat run
      {{4097}, {}},                          // scalar b (rank 0)
      {{}, {33}},                            // scalar a
      {{1}, {7}},                            // size-1 a
      {{7, 33}, {33}},                       // row broadcast, rank mismatch
      {{33, 7}, {33, 1}},                    // column broadcast
      {{7, 1, 5}, {1, 9, 1}},                // size-1 dims on both sides
      {{2, 3, 4, 5}, {4, 1}},                // inner dims of b, rank 4 vs 2
      {{3, 1, 4}, {2, 3, 5, 4}},             // a broadcast over a leading dim and a middle one
      {{2, 1, 3, 1, 2, 3, 1, 2}, {1, 3, 1, 2, 1, 3, 2, 1}},  // rank 8
      {{5, 1, 7}, {5, 0, 7}},                // empty output: nothing written
      {{1, 1}, {1}},                         // one element, all dims 1
  };
  const int nshape = sizeof shapes / sizeof shapes[0];
  // Every op on every shape case; one op a case (rotating) in place on a.
  for (int s = 0; s < nshape; ++s)
    for (int o = 0; o < nb; ++o) check_binary(bops[o].op, bops[o].name, shapes[s].a, shapes[s].b, o == s % nb, stream);
  for (int o = 0; o < nb; ++o) check_binary(bops[o].op, bops[o].name, {3, 1, 7}, {4, 1}, false, stream);
  if (!small) check_binary(BinaryOp::Add, "add", {513, 1, 1000}, {1, 257, 1000}, false, stream);
  const int64_t s9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  check(cuda::binary_forward(BinaryOp::Add, nullptr, s9, 9, nullptr, s9, 9, nullptr, s9, 9, stream) == cudaErrorInvalidValue,
        "rank 9 is refused");

  const std::vector<int64_t> dims = small ? std::vector<int64_t>{1, 7, 33, 100}
                                          : std::vector<int64_t>{1, 7, 33, 100, 257, 1000};
  idx = 0;
  for (int64_t r : dims)
    for (int64_t c : dims) {
      check_bias_add(r, c, idx % 3 != 2, idx % 2 == 0, idx % 5 == 0, stream);
      ++idx;
    }
  if (!small) check_bias_add(70000, 3, true, true, false, stream);  // more rows than grid.y
  check(cuda::bias_add_forward(nullptr, nullptr, nullptr, 0, 5, true, stream) == cudaSuccess, "rows = 0 does nothing");

  ct::ok(cudaStreamSynchronize(stream), "final cudaStreamSynchronize");
  ct::ok(cudaStreamDestroy(stream), "cudaStreamDestroy");
  return finish(name);
}

}  // namespace elementwise_test

#ifndef GF_CUDA_TEST_NO_MAIN
int main() { return elementwise_test::run("test_cuda_elementwise"); }
#endif

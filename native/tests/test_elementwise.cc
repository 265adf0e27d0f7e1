// Elementwise kernels vs the references: every unary op forward and backward (the reference
// differentiates from x with textbook formulas; the kernel may use y), at odd sizes and one
// size large enough to run threaded, plus extreme inputs for the ops that must stay stable;
// every binary op over same-shape, scalar, row, column and random rank-0..8 broadcasts,
// including empty dims. float and double.
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "cpu/elementwise.h"
#include "cpu/threadpool.h"
#include "ref/ref.h"
#include "tests/test_util.h"

using namespace gf;
using namespace gf::test;

namespace {

constexpr double kSentinelValue = 4242.0;  // past the end of out: must survive

struct UnaryCase {
  const char* name;
  double lo, hi;        // input range where the op is defined
  double alpha, beta;
};

const UnaryCase kUnary[] = {
    {"neg", -3, 3, 0, 0},        {"exp", -10, 10, 0, 0},       {"log", 0.01, 10, 0, 0},
    {"sqrt", 0.01, 10, 0, 0},    {"abs", -3, 3, 0, 0},         {"square", -3, 3, 0, 0},
    {"reciprocal", 0.1, 5, 0, 0}, {"sign", -3, 3, 0, 0},       {"relu", -3, 3, 0, 0},
    {"leakyRelu", -3, 3, 0.2, 0}, {"elu", -5, 3, 1.3, 0},      {"selu", -5, 3, 0, 0},
    {"sigmoid", -20, 20, 0, 0},  {"tanh", -5, 5, 0, 0},        {"softplus", -30, 30, 0, 0},
    {"clip", -3, 3, -0.5, 0.75}, {"powScalar", 0.1, 3, 2.5, 0}, {"powScalar", -2, 2, 3, 0},
    {"powScalar", -2, 2, 0, 0},  {"scale", -3, 3, -1.5, 0.25}, {"log1p", -0.9, 10, 0, 0},
    {"logSigmoid", -30, 30, 0, 0},
};

template <typename T>
void test_unary() {
  const int64_t sizes[] = {0, 1, 7, 17, 33, 100, 257, 100003};
  const double rtol = 16 * eps<T>(), atol = 16 * eps<T>();
  for (const UnaryCase& uc : kUnary) {
    UnaryOp op;
    if (!unary_op_from_name(uc.name, &op)) {
      fail(std::string("unknown op name ") + uc.name);
      continue;
    }
    for (int64_t n : sizes) {
      std::vector<T> x = random_vec<T>(n, uc.lo, uc.hi), y(n), want(n);
      const T a = T(uc.alpha), b = T(uc.beta);
      unary_forward<T>(op, x.data(), y.data(), n, a, b);
      ref::unary<T>(op, x.data(), want.data(), n, a, b);
      std::string what = std::string("unary<") + type_name<T>() + "> " + uc.name + " n=" +
                         std::to_string(n) + " alpha=" + std::to_string(uc.alpha);
      check_close(y.data(), want.data(), n, atol, rtol, what);

      std::vector<T> dy = random_vec<T>(n), dx(n), dwant(n);
      unary_backward<T>(op, x.data(), y.data(), dy.data(), dx.data(), n, a, b);
      ref::unary_backward<T>(op, x.data(), dy.data(), dwant.data(), n, a, b);
      // The kernel's y-based derivatives carry the rounding of y; allow a few more ulps.
      check_close(dx.data(), dwant.data(), n, 4 * atol, 4 * rtol, "backward " + what);

      // In place: out == x.
      std::vector<T> inplace = x;
      unary_forward<T>(op, inplace.data(), inplace.data(), n, a, b);
      check_close(inplace.data(), y.data(), n, 0, 0, "in-place " + what);
    }
  }

  // Stability at extreme inputs: no overflow to Inf/NaN where the true value is finite.
  const T xs[] = {T(-1000), T(-100), T(-30), T(-1e-6), T(0), T(1e-6), T(30), T(100), T(1000)};
  const int64_t n = sizeof(xs) / sizeof(xs[0]);
  for (const char* name : {"sigmoid", "softplus", "logSigmoid", "tanh", "elu", "selu"}) {
    UnaryOp op;
    unary_op_from_name(name, &op);
    T y[n], want[n], dy[n], dx[n], dwant[n];
    unary_forward<T>(op, xs, y, n, T(1), T(0));
    ref::unary<T>(op, xs, want, n, T(1), T(0));
    check_close(y, want, n, atol, rtol, std::string("extreme ") + type_name<T>() + " " + name);
    for (int64_t i = 0; i < n; ++i) {
      dy[i] = T(1);
      check(std::isfinite(double(y[i])), std::string(name) + " finite at extreme input");
    }
    unary_backward<T>(op, xs, y, dy, dx, n, T(1), T(0));
    ref::unary_backward<T>(op, xs, dy, dwant, n, T(1), T(0));
    check_close(dx, dwant, n, 4 * atol, 4 * rtol,
                std::string("extreme backward ") + type_name<T>() + " " + name);
  }
  // NaN propagates through relu (as PyTorch), and sign keeps it.
  {
    T x[2] = {std::numeric_limits<T>::quiet_NaN(), T(-2)}, y[2];
    UnaryOp op;
    unary_op_from_name("relu", &op);
    unary_forward<T>(op, x, y, 2, T(0), T(0));
    check(std::isnan(double(y[0])) && y[1] == T(0), "relu(NaN) = NaN, relu(-2) = 0");
  }
  UnaryOp dummy;
  check(!unary_op_from_name("gelu", &dummy), "unknown unary op name rejected");
}

// Shape printing for messages.
std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

int64_t numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

struct ShapeTriple {
  std::vector<int64_t> a, b, out;
};

std::vector<ShapeTriple> broadcast_cases() {
  std::vector<ShapeTriple> cases = {
      {{5, 7}, {5, 7}, {5, 7}},          // same shape
      {{}, {3, 4}, {3, 4}},              // rank-0 scalar
      {{3, 4}, {1}, {3, 4}},             // scalar as [1]
      {{17, 33}, {33}, {17, 33}},        // row broadcast
      {{33}, {17, 33}, {17, 33}},        // row on the left
      {{17, 1}, {17, 33}, {17, 33}},     // column
      {{1, 7}, {5, 1}, {5, 7}},          // outer product
      {{2, 3, 4}, {3, 1}, {2, 3, 4}},
      {{0, 3}, {3}, {0, 3}},             // empty
      {{1, 0}, {5, 1}, {5, 0}},          // empty by broadcasting 0 with 1
      {{257, 301}, {301}, {257, 301}},   // large enough to run threaded
      {{257, 1}, {1, 301}, {257, 301}},
      {{300, 257}, {300, 257}, {300, 257}},
      {{1}, {1}, {1}},
      {{}, {}, {}},
  };
  // Random broadcast-compatible shapes of rank 0..8.
  std::uniform_int_distribution<int> dim(1, 4), coin(0, 2);
  for (int t = 0; t < 40; ++t) {
    const int rank = t % 9;
    ShapeTriple c;
    for (int i = 0; i < rank; ++i) c.out.push_back(dim(rng()));
    for (int side = 0; side < 2; ++side) {
      std::vector<int64_t>& s = side ? c.b : c.a;
      const int drop = rank ? coin(rng()) % (rank + 1) : 0;  // drop leading dims
      for (int i = drop; i < rank; ++i) s.push_back(coin(rng()) == 0 ? 1 : c.out[i]);
    }
    cases.push_back(c);
  }
  return cases;
}

template <typename T>
void test_binary() {
  const char* ops[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "greater",
                       "greaterEqual", "less", "lessEqual", "equal"};
  const auto cases = broadcast_cases();
  for (const char* name : ops) {
    BinaryOp op;
    if (!binary_op_from_name(name, &op)) {
      fail(std::string("unknown op name ") + name);
      continue;
    }
    const bool is_pow = std::string(name) == "pow";
    for (const ShapeTriple& c : cases) {
      // pow: positive bases so the result is real; others: values with some exact ties.
      std::vector<T> a = random_vec<T>(std::max<int64_t>(1, numel(c.a)), is_pow ? 0.1 : -2, 2);
      std::vector<T> b = random_vec<T>(std::max<int64_t>(1, numel(c.b)), -2, 2);
      if (!is_pow)
        for (size_t i = 0; i < a.size(); i += 3) a[i] = b[i % b.size()];  // ties for ==, >=
      if (!a.empty() && std::string(name) == "maximum") a[0] = std::numeric_limits<T>::quiet_NaN();
      const int64_t n = numel(c.out);
      std::vector<T> out(n + 1, T(kSentinelValue)), want(n + 1, T(kSentinelValue));
      binary_forward<T>(op, a.data(), c.a.data(), int(c.a.size()), b.data(), c.b.data(),
                        int(c.b.size()), out.data(), c.out.data(), int(c.out.size()));
      ref::binary<T>(op, a.data(), c.a.data(), int(c.a.size()), b.data(), c.b.data(),
                     int(c.b.size()), want.data(), c.out.data(), int(c.out.size()));
      const double tol = is_pow ? 8 * eps<T>() : 2 * eps<T>();
      check_close(out.data(), want.data(), n + 1, 0, tol,
                  std::string("binary<") + type_name<T>() + "> " + name + " " + shape_str(c.a) +
                      " x " + shape_str(c.b) + " -> " + shape_str(c.out));
    }
  }
  BinaryOp dummy;
  check(!binary_op_from_name("atan2", &dummy), "unknown binary op name rejected");
}

}  // namespace

int main() {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    test_unary<float>();
    test_unary<double>();
    test_binary<float>();
    test_binary<double>();
  }
  return finish("test_elementwise");
}

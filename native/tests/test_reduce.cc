// reduce (sum/mean/max/min) and argReduce (argmax/argmin) vs the references over (outer, n,
// inner) combinations of odd sizes including 0, the documented n = 0 results, NaN propagation,
// first-index tie breaking, and 1 and 2 threads. float and double.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "cpu/reduce.h"
#include "cpu/threadpool.h"
#include "ref/ref.h"
#include "tests/test_util.h"

using namespace gf;
using namespace gf::test;

namespace {

std::string dims(int64_t o, int64_t n, int64_t i) {
  return "outer=" + std::to_string(o) + " n=" + std::to_string(n) + " inner=" + std::to_string(i);
}

template <typename T>
void test_reduce_all() {
  const int64_t sizes[] = {0, 1, 7, 33, 257};
  const char* names[] = {"sum", "mean", "max", "min"};
  for (const char* name : names) {
    ReduceOp op;
    if (!reduce_op_from_name(name, &op)) { fail(std::string("op name ") + name); continue; }
    for (int64_t outer : sizes)
      for (int64_t n : sizes)
        for (int64_t inner : sizes) {
          if (outer * n * inner > 300000) continue;
          std::vector<T> x = random_vec<T>(outer * n * inner);
          std::vector<T> got(outer * inner + 1, T(777)), want(outer * inner + 1, T(777));
          reduce<T>(op, x.data(), outer, n, inner, got.data());
          ref::reduce<T>(op, x.data(), outer, n, inner, want.data());
          // Values are in [-1, 1]: the sum's rounding error is bounded by ~n eps.
          const double atol = 4 * (n + 2) * eps<T>();
          check_close(got.data(), want.data(), got.size(), atol, 4 * eps<T>(),
                      std::string("reduce<") + type_name<T>() + "> " + name + " " +
                          dims(outer, n, inner));
        }
  }
  // n = 0: sum 0, mean NaN, max -Inf, min +Inf.
  const double expect[] = {0.0, std::numeric_limits<double>::quiet_NaN(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::infinity()};
  for (int k = 0; k < 4; ++k) {
    ReduceOp op;
    reduce_op_from_name(names[k], &op);
    T out[6];
    reduce<T>(op, static_cast<const T*>(nullptr), 2, 0, 3, out);
    for (T v : out) check(close(v, expect[k], 0, 0), std::string("n=0 result for ") + names[k]);
  }
  // NaN propagates through max/min.
  {
    T x[5] = {T(1), std::numeric_limits<T>::quiet_NaN(), T(3), T(-4), T(0)}, out[1];
    ReduceOp op;
    reduce_op_from_name("max", &op);
    reduce<T>(op, x, 1, 5, 1, out);
    check(std::isnan(double(out[0])), "max with NaN is NaN");
    reduce_op_from_name("min", &op);
    reduce<T>(op, x, 1, 5, 1, out);
    check(std::isnan(double(out[0])), "min with NaN is NaN");
  }
}

template <typename T>
void test_arg_reduce() {
  const int64_t sizes[] = {1, 7, 33, 257};
  for (const char* name : {"argmax", "argmin"}) {
    ArgReduceOp op;
    if (!arg_reduce_op_from_name(name, &op)) { fail(std::string("op name ") + name); continue; }
    for (int64_t outer : {int64_t(0), int64_t(1), int64_t(7), int64_t(33)})
      for (int64_t n : sizes)
        for (int64_t inner : {int64_t(1), int64_t(7), int64_t(33)}) {
          std::vector<T> x = random_vec<T>(outer * n * inner);
          // Quantize so ties are common: the first index must win.
          for (T& v : x) v = std::round(v * 4) / 4;
          std::vector<int32_t> got(outer * inner + 1, -7), want(outer * inner + 1, -7);
          arg_reduce<T>(op, x.data(), outer, n, inner, got.data());
          ref::arg_reduce<T>(op, x.data(), outer, n, inner, want.data());
          ++checks();
          if (got != want)
            fail(std::string("arg_reduce<") + type_name<T>() + "> " + name + " " +
                 dims(outer, n, inner));
        }
    T x[5] = {T(1), T(5), std::numeric_limits<T>::quiet_NaN(), T(9), std::numeric_limits<T>::quiet_NaN()};
    int32_t out[1];
    arg_reduce<T>(op, x, 1, 5, 1, out);
    check(out[0] == 2, std::string(name) + " returns the first NaN");
  }
}

}  // namespace

int main() {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    test_reduce_all<float>();
    test_reduce_all<double>();
    test_arg_reduce<float>();
    test_arg_reduce<double>();
  }
  return finish("test_reduce");
}

// softmax / log-softmax forward and backward vs the references at odd (rows, cols), with
// large-magnitude inputs (stability: no overflow), rows summing to 1, and 1 and 2 threads.
#include <cmath>
#include <string>
#include <vector>

#include "cpu/softmax.h"
#include "cpu/threadpool.h"
#include "ref/ref.h"
#include "tests/test_util.h"

using namespace gf;
using namespace gf::test;

namespace {

template <typename T>
void test_softmax_all() {
  const int64_t sizes[] = {0, 1, 7, 17, 33, 100, 257};
  for (bool log : {false, true}) {
    for (int64_t rows : sizes)
      for (int64_t cols : sizes) {
        for (double scale : {1.0, 500.0}) {  // 500: exp would overflow without the max shift
          const int64_t n = rows * cols;
          std::vector<T> x = random_vec<T>(n, -scale, scale), y(n + 1, T(9)), want(n + 1, T(9));
          softmax_forward<T>(x.data(), rows, cols, y.data(), log);
          ref::softmax<T>(x.data(), rows, cols, want.data(), log);
          const std::string what = std::string(log ? "logSoftmax<" : "softmax<") + type_name<T>() +
                                   "> rows=" + std::to_string(rows) + " cols=" +
                                   std::to_string(cols) + " scale=" + std::to_string(scale);
          // log-softmax values reach ~2*scale in magnitude: relative tolerance covers them.
          check_close(y.data(), want.data(), n + 1, 8 * eps<T>(), 8 * (cols + 2) * eps<T>(), what);
          if (!log && cols > 0) {
            for (int64_t r = 0; r < rows; ++r) {
              double s = 0;
              for (int64_t j = 0; j < cols; ++j) s += y[r * cols + j];
              check(std::fabs(s - 1) <= 4 * (cols + 2) * eps<T>(), what + ": row sums to 1");
            }
          }
          std::vector<T> dy = random_vec<T>(n), dx(n + 1, T(9)), dwant(n + 1, T(9));
          softmax_backward<T>(y.data(), dy.data(), rows, cols, dx.data(), log);
          ref::softmax_backward<T>(y.data(), dy.data(), rows, cols, dwant.data(), log);
          check_close(dx.data(), dwant.data(), n + 1, 8 * (cols + 2) * eps<T>(), 8 * eps<T>(),
                      "backward " + what);
        }
      }
  }
  // In place (out == x).
  std::vector<T> x = random_vec<T>(7 * 33), y(x.size());
  softmax_forward<T>(x.data(), 7, 33, y.data(), false);
  softmax_forward<T>(x.data(), 7, 33, x.data(), false);
  check_close(x.data(), y.data(), x.size(), 0, 0, "softmax in place");
}

}  // namespace

int main() {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    test_softmax_all<float>();
    test_softmax_all<double>();
  }
  return finish("test_softmax");
}

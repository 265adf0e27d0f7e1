// Optimizer steps vs the references (which compute in double), several consecutive steps so
// state (velocity, moments, accumulators) carries over: sgd with momentum 0 / momentum /
// Nesterov, adam, rmsprop, adagrad; odd sizes incl. 0 and a threaded size; float and double.
// Also checks one hand-computed value per rule, so the reference itself is pinned down.
#include <cmath>
#include <string>
#include <vector>

#include "cpu/optim.h"
#include "cpu/threadpool.h"
#include "ref/ref.h"
#include "tests/test_util.h"

using namespace gf;
using namespace gf::test;

namespace {

template <typename T>
void test_rules() {
  const int64_t sizes[] = {0, 1, 7, 33, 257, 100003};
  const double rtol = 64 * eps<T>(), atol = 64 * eps<T>();
  for (int64_t n : sizes) {
    const std::string sn = std::string("<") + type_name<T>() + "> n=" + std::to_string(n);
    for (int variant = 0; variant < 3; ++variant) {  // momentum 0, momentum, nesterov
      const double momentum = variant == 0 ? 0.0 : 0.9;
      const bool nesterov = variant == 2;
      std::vector<T> p = random_vec<T>(n), v(variant ? n : 0), p2 = p, v2 = v;
      for (int step = 0; step < 3; ++step) {
        std::vector<T> g = random_vec<T>(n);
        sgd_step<T>(p.data(), g.data(), variant ? v.data() : nullptr, n, 0.05, momentum, nesterov);
        ref::sgd_step<T>(p2.data(), g.data(), variant ? v2.data() : nullptr, n, 0.05, momentum,
                         nesterov);
      }
      const std::string what = "sgd" + sn + " momentum=" + std::to_string(momentum) +
                               " nesterov=" + std::to_string(nesterov);
      check_close(p.data(), p2.data(), n, atol, rtol, what + " p");
      check_close(v.data(), v2.data(), v.size(), atol, rtol, what + " v");
    }
    {
      std::vector<T> p = random_vec<T>(n), m(n, T(0)), v(n, T(0)), p2 = p, m2 = m, v2 = v;
      for (int step = 1; step <= 4; ++step) {
        std::vector<T> g = random_vec<T>(n);
        adam_step<T>(p.data(), g.data(), m.data(), v.data(), n, 1e-3, 0.9, 0.999, 1e-7, step);
        ref::adam_step<T>(p2.data(), g.data(), m2.data(), v2.data(), n, 1e-3, 0.9, 0.999, 1e-7,
                          step);
      }
      check_close(p.data(), p2.data(), n, atol, rtol, "adam" + sn + " p");
      check_close(m.data(), m2.data(), n, atol, rtol, "adam" + sn + " m");
      check_close(v.data(), v2.data(), n, atol, rtol, "adam" + sn + " v");
    }
    {
      std::vector<T> p = random_vec<T>(n), ms(n, T(0)), p2 = p, ms2 = ms;
      for (int step = 0; step < 3; ++step) {
        std::vector<T> g = random_vec<T>(n);
        rmsprop_step<T>(p.data(), g.data(), ms.data(), n, 1e-2, 0.9, 1e-7);
        ref::rmsprop_step<T>(p2.data(), g.data(), ms2.data(), n, 1e-2, 0.9, 1e-7);
      }
      check_close(p.data(), p2.data(), n, atol, rtol, "rmsprop" + sn + " p");
      check_close(ms.data(), ms2.data(), n, atol, rtol, "rmsprop" + sn + " ms");
    }
    {
      std::vector<T> p = random_vec<T>(n), acc(n, T(0.1)), p2 = p, acc2 = acc;
      for (int step = 0; step < 3; ++step) {
        std::vector<T> g = random_vec<T>(n);
        adagrad_step<T>(p.data(), g.data(), acc.data(), n, 1e-2, 1e-7);
        ref::adagrad_step<T>(p2.data(), g.data(), acc2.data(), n, 1e-2, 1e-7);
      }
      check_close(p.data(), p2.data(), n, atol, rtol, "adagrad" + sn + " p");
      check_close(acc.data(), acc2.data(), n, atol, rtol, "adagrad" + sn + " acc");
    }
  }

  // Hand-computed single steps (p = 1, g = 0.5), pinning the formulas of binding.d.ts.
  auto near = [](double a, double b) { return std::fabs(a - b) <= 1e-6 * (1 + std::fabs(b)); };
  {
    T p = 1, g = 0.5, v = 0.2;  // v = 0.9*0.2 - 0.1*0.5 = 0.13; nesterov p += 0.9*0.13 - 0.05
    sgd_step<T>(&p, &g, &v, 1, 0.1, 0.9, true);
    check(near(v, 0.13) && near(p, 1 + 0.117 - 0.05), "sgd nesterov by hand");
  }
  {
    T p = 1, g = 0.5, m = 0, v = 0;  // t=1: m=0.05, v=0.00025, lr_t = 0.1*sqrt(0.001)/0.1
    adam_step<T>(&p, &g, &m, &v, 1, 0.1, 0.9, 0.999, 1e-7, 1);
    const double lr_t = 0.1 * std::sqrt(1 - 0.999) / (1 - 0.9);
    check(near(m, 0.05) && near(v, 0.00025) &&
              near(p, 1 - lr_t * 0.05 / (std::sqrt(0.00025) + 1e-7)),
          "adam by hand");
  }
  {
    T p = 1, g = 0.5, ms = 0;  // ms = 0.1*0.25 = 0.025; p -= 0.1*0.5/sqrt(0.025 + 1e-7)
    rmsprop_step<T>(&p, &g, &ms, 1, 0.1, 0.9, 1e-7);
    check(near(ms, 0.025) && near(p, 1 - 0.05 / std::sqrt(0.025 + 1e-7)), "rmsprop by hand");
  }
  {
    T p = 1, g = 0.5, acc = 0.1;  // acc = 0.35; p -= 0.1*0.5/sqrt(0.35 + 1e-7)
    adagrad_step<T>(&p, &g, &acc, 1, 0.1, 1e-7);
    check(near(acc, 0.35) && near(p, 1 - 0.05 / std::sqrt(0.35 + 1e-7)), "adagrad by hand");
  }
}

// Arrays that are the same array (g being p: an in-place update) or that overlap partially:
// the result must be that of the rule applied one element after another, in order (the
// vectorized path is only for arrays that are identical or disjoint).
template <typename T>
void test_aliasing() {
  const int64_t n = 1001;
  const std::string tn = std::string("<") + type_name<T>() + ">";
  {
    // g is p: p[i] -= lr * p[i].
    std::vector<T> p = random_vec<T>(n), want = p;
    for (int64_t i = 0; i < n; ++i) want[i] -= T(0.05) * want[i];
    sgd_step<T>(p.data(), p.data(), nullptr, n, 0.05, 0.0, false);
    check(p == want, "sgd" + tn + " with g == p");
  }
  {
    // p starts one element after g: element i reads g[i] = p[i - 1], written just before.
    std::vector<T> buf = random_vec<T>(n + 1), want = buf;
    for (int64_t i = 0; i < n; ++i) want[i + 1] -= T(0.05) * want[i];
    sgd_step<T>(buf.data() + 1, buf.data(), nullptr, n, 0.05, 0.0, false);
    check(buf == want, "sgd" + tn + " with p overlapping g (p = g + 1)");
  }
  {
    // Adam with g one element into m: element i reads g[i] = m[i + 1], not yet written.
    std::vector<T> p = random_vec<T>(n), mbuf = random_vec<T>(n + 1), v(n, T(0.01));
    std::vector<T> p2 = p, mbuf2 = mbuf, v2 = v;
    adam_step<T>(p.data(), mbuf.data() + 1, mbuf.data(), v.data(), n, 1e-3, 0.9, 0.999, 1e-7, 3);
    const T alpha = static_cast<T>(1e-3 * std::sqrt(1.0 - std::pow(0.999, 3.0)) / (1.0 - std::pow(0.9, 3.0)));
    for (int64_t i = 0; i < n; ++i) {
      const T gi = mbuf2[i + 1];
      const T mi = T(0.9) * mbuf2[i] + T(1.0 - 0.9) * gi;
      const T vi = T(0.999) * v2[i] + T(1.0 - 0.999) * gi * gi;
      mbuf2[i] = mi;
      v2[i] = vi;
      p2[i] -= alpha * mi / (std::sqrt(vi) + T(1e-7));
    }
    check(p == p2 && mbuf == mbuf2 && v == v2, "adam" + tn + " with g overlapping m");
  }
}

}  // namespace

int main() {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    test_rules<float>();
    test_rules<double>();
    test_aliasing<float>();
    test_aliasing<double>();
  }
  return finish("test_optim");
}

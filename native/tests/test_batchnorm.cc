// Batch normalization kernels vs the naive references: training forward (y, batch mean,
// inverse std, moving statistics), inference forward, training and inference backward, with
// and without gamma/beta, on odd (M, C) including M = 1 and inputs whose mean dwarfs their
// spread, float and double, 1 and 2 threads; the threaded result must equal the one-thread
// result. The reference backward is validated by central finite differences in double of
// L = sum(y * r) with respect to x, gamma and beta.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cpu/batchnorm.h"
#include "cpu/threadpool.h"
#include "ref/ref.h"
#include "tests/test_util.h"

using namespace gf;
using namespace gf::test;

namespace {

constexpr double kEps = 1e-3, kMomentum = 0.99;  // Keras defaults

// L = sum(y * r) for training-mode (or inference-mode) batchnorm, via the reference.
double loss(int64_t M, int64_t C, const std::vector<double>& x, const std::vector<double>& g,
            const std::vector<double>& b, const std::vector<double>& r, bool train,
            const std::vector<double>& mm, const std::vector<double>& mv) {
  std::vector<double> y(M * C), mean(C), is(C);
  if (train)
    ref::batchnorm_forward_train<double>(M, C, x.data(), g.data(), b.data(), kEps, kMomentum,
                                         y.data(), mean.data(), is.data(), nullptr, nullptr);
  else
    ref::batchnorm_forward_inference<double>(M, C, x.data(), g.data(), b.data(), mm.data(),
                                             mv.data(), kEps, y.data());
  double s = 0;
  for (int64_t i = 0; i < M * C; ++i) s += y[i] * r[i];
  return s;
}

void check_finite_differences(int64_t M, int64_t C, bool train) {
  std::vector<double> x = random_vec<double>(M * C, -2, 2), g = random_vec<double>(C, 0.5, 1.5),
                      b = random_vec<double>(C), r = random_vec<double>(M * C),
                      mm = random_vec<double>(C), mv = random_vec<double>(C, 0.5, 2);
  std::vector<double> dx(M * C), dg(C), db(C);
  if (train)
    ref::batchnorm_backward<double>(M, C, x.data(), r.data(), g.data(), kEps, dx.data(),
                                    dg.data(), db.data());
  else
    ref::batchnorm_backward_inference<double>(M, C, x.data(), r.data(), g.data(), mm.data(),
                                              mv.data(), kEps, dx.data(), dg.data(), db.data());
  const double h = 1e-5;
  auto fd = [&](std::vector<double>& v, size_t i) {
    const double keep = v[i];
    v[i] = keep + h;
    const double up = loss(M, C, x, g, b, r, train, mm, mv);
    v[i] = keep - h;
    const double down = loss(M, C, x, g, b, r, train, mm, mv);
    v[i] = keep;
    return (up - down) / (2 * h);
  };
  const std::string what = std::string(train ? "train" : "inference") + " M" +
                           std::to_string(M) + " C" + std::to_string(C);
  for (size_t i = 0; i < x.size(); i += 1 + x.size() / 7)
    check(close(dx[i], fd(x, i), 1e-6, 1e-6), "ref dx finite difference " + what);
  for (int64_t c = 0; c < C; ++c) {
    check(close(dg[c], fd(g, c), 1e-6, 1e-6), "ref dgamma finite difference " + what);
    check(close(db[c], fd(b, c), 1e-6, 1e-6), "ref dbeta finite difference " + what);
  }
}

template <typename T>
void check_kernels(int64_t M, int64_t C, bool affine, double offset, int threads) {
  const std::string what = std::string(type_name<T>()) + " threads=" + std::to_string(threads) +
                           " M" + std::to_string(M) + " C" + std::to_string(C) +
                           (affine ? " affine" : " no gamma/beta") + " offset " +
                           std::to_string(offset);
  const double tol = sizeof(T) == 4 ? 2e-5 : 1e-12;
  std::vector<T> x = random_vec<T>(M * C, offset - 1, offset + 1), dy = random_vec<T>(M * C);
  std::vector<T> g = random_vec<T>(C, 0.5, 1.5), b = random_vec<T>(C);
  const T* gp = affine ? g.data() : nullptr;
  const T* bp = affine ? b.data() : nullptr;
  std::vector<T> mm = random_vec<T>(C), mv = random_vec<T>(C, 0.5, 2);

  std::vector<T> y(M * C, T(777)), want(M * C), mean(C), is(C), want_mean(C), want_is(C);
  std::vector<T> mm1 = mm, mv1 = mv, mm2 = mm, mv2 = mv;
  batchnorm_forward_train<T>(M, C, x.data(), gp, bp, kEps, kMomentum, y.data(), mean.data(),
                             is.data(), mm1.data(), mv1.data());
  ref::batchnorm_forward_train<T>(M, C, x.data(), gp, bp, kEps, kMomentum, want.data(),
                                  want_mean.data(), want_is.data(), mm2.data(), mv2.data());
  // x carries |offset| * eps of rounding, and so does the reference's double mean.
  const double itol = tol * (1 + std::fabs(offset));
  check_close(y.data(), want.data(), M * C, itol, tol, "forward_train y " + what);
  check_close(mean.data(), want_mean.data(), C, tol, tol, "forward_train mean " + what);
  check_close(is.data(), want_is.data(), C, tol, tol, "forward_train inv_std " + what);
  check_close(mm1.data(), mm2.data(), C, tol, tol, "forward_train moving_mean " + what);
  check_close(mv1.data(), mv2.data(), C, tol, tol, "forward_train moving_var " + what);

  batchnorm_forward_inference<T>(M, C, x.data(), gp, bp, mm.data(), mv.data(), kEps, y.data());
  ref::batchnorm_forward_inference<T>(M, C, x.data(), gp, bp, mm.data(), mv.data(), kEps,
                                      want.data());
  // |x - moving_mean| ~ offset here, so the error scales with it too.
  check_close(y.data(), want.data(), M * C, itol, tol, "forward_inference " + what);

  // Training backward, from the statistics the forward wrote (nullptr outputs skipped).
  std::vector<T> dx(M * C, T(777)), want_dx(M * C), dg(C, T(777)), db(C, T(777)),
      want_dg(C), want_db(C);
  batchnorm_backward<T>(M, C, x.data(), dy.data(), gp, mean.data(), is.data(), dx.data(),
                        dg.data(), db.data());
  ref::batchnorm_backward<T>(M, C, x.data(), dy.data(), gp, kEps, want_dx.data(),
                             want_dg.data(), want_db.data());
  // The kernel sees the mean rounded to T; with a large offset that costs |offset| * eps.
  const double btol = tol * (1 + std::fabs(offset) * 4) * std::sqrt(double(M));
  check_close(dx.data(), want_dx.data(), M * C, btol, btol, "backward dx " + what);
  check_close(dg.data(), want_dg.data(), C, btol, btol, "backward dgamma " + what);
  check_close(db.data(), want_db.data(), C, btol, btol, "backward dbeta " + what);
  batchnorm_backward<T>(M, C, x.data(), dy.data(), gp, mean.data(), is.data(), dx.data(),
                        nullptr, nullptr);
  check_close(dx.data(), want_dx.data(), M * C, btol, btol, "backward dx only " + what);

  batchnorm_backward_inference<T>(M, C, x.data(), dy.data(), gp, mm.data(), mv.data(), kEps,
                                  dx.data(), dg.data(), db.data());
  ref::batchnorm_backward_inference<T>(M, C, x.data(), dy.data(), gp, mm.data(), mv.data(),
                                       kEps, want_dx.data(), want_dg.data(), want_db.data());
  const double stol = itol * std::sqrt(double(M));
  check_close(dx.data(), want_dx.data(), M * C, tol, tol, "backward_inference dx " + what);
  check_close(dg.data(), want_dg.data(), C, stol, stol, "backward_inference dgamma " + what);
  check_close(db.data(), want_db.data(), C, stol, stol, "backward_inference dbeta " + what);
}

// The same large problem on 1 and 2 threads gives identical bits.
template <typename T>
void check_thread_independence(int64_t M, int64_t C) {
  std::vector<T> x = random_vec<T>(M * C), dy = random_vec<T>(M * C), g = random_vec<T>(C);
  std::vector<T> out[2];
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    std::vector<T>& o = out[threads - 1];
    o.assign(2 * M * C + 4 * C, T(0));
    T* y = o.data();
    T* dx = y + M * C;
    T* mean = dx + M * C;
    T* is = mean + C;
    T* dg = is + C;
    T* db = dg + C;
    batchnorm_forward_train<T>(M, C, x.data(), g.data(), nullptr, kEps, kMomentum, y, mean, is,
                               nullptr, nullptr);
    batchnorm_backward<T>(M, C, x.data(), dy.data(), g.data(), mean, is, dx, dg, db);
  }
  check_close(out[1].data(), out[0].data(), out[0].size(), 0, 0,
              std::string(type_name<T>()) + " 2 threads == 1 thread M" + std::to_string(M));
}

}  // namespace

int main() {
  for (auto mc : {std::pair<int64_t, int64_t>{1, 1}, {2, 3}, {7, 5}, {33, 1}, {40, 3}})
    for (bool train : {true, false}) check_finite_differences(mc.first, mc.second, train);

  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (int64_t M : {1, 2, 7, 33, 257, 507, 5000})
      for (int64_t C : {1, 3, 5, 33, 300})
        for (bool affine : {true, false}) {
          if (M * C > 200000) continue;
          check_kernels<float>(M, C, affine, 0.0, threads);
          check_kernels<double>(M, C, affine, 0.0, threads);
        }
    // |mean| >> std: shifted sums keep the variance accurate.
    for (int64_t M : {7, 5000}) {
      check_kernels<float>(M, 5, true, 100.0, threads);
      check_kernels<double>(M, 5, true, 1e4, threads);
    }
  }
  check_thread_independence<float>(64 * 26 * 26 / 4, 32);
  check_thread_independence<double>(3001, 7);
  return finish("test_batchnorm");
}

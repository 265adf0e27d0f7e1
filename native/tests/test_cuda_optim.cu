// CUDA optimizer steps (native/cuda/optim.cu) against ref::sgd_step, adam_step, rmsprop_step,
// adagrad_step (double arithmetic, rounded to float after each step, like the parameters):
// SGD plain / momentum / Nesterov, Adam (Keras defaults, and a large epsilon with the steps
// starting at t = 10, where the bias correction is not ~1), RMSprop and Adagrad with epsilon
// 1e-7 and 1e-2 (where sqrt(s + eps) and sqrt(s) + eps differ visibly), three consecutive
// steps with the state carried on each side, sizes 1, 7, 33, 1000, 4097; gradients with zeros
// mixed in; every array has guard floats after it. Tolerances, per element: the kernel runs
// the CPU's float formulas (a few roundings an update, maybe fused into fmas), so an output
// may differ from the double reference by 2 eps of its value a step plus 16 eps of the
// change the steps made to it (summed |update| on the reference side). No device:
// "SKIP: <reason>", exit 77. GF_CUDA_SMALL=1: small sizes.
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cuda/optim.h"
#include "cuda/testing.h"
#include "ref/ref.h"
#include "tests/test_util.h"

// GF_CUDA_EMULATED_TEST: also runs over the host emulation (test_cuda_emulated optim).
namespace optim_test {

using namespace gf;
using namespace gf::test;
namespace ct = gf::cuda::testing;

constexpr size_t kGuard = 8;
constexpr int kSteps = 3;

enum class Kind { Sgd, Adam, RmsProp, Adagrad };

struct Config {
  Kind kind;
  const char* name;
  double lr, a, b, eps;  // sgd: a = momentum, b = nesterov; adam: a, b = beta1, beta2; rmsprop: a = rho
  double step0;          // adam: t of the first step
};

void compare(const std::vector<float>& got, const std::vector<float>& want, const std::vector<double>& moved,
             const std::string& what) {
  ++checks();
  for (size_t i = 0; i < want.size(); ++i) {
    const double tol = kSteps * 2 * eps<float>() * std::fabs(want[i]) + 16 * eps<float>() * moved[i] + 1e-30;
    if (!close(got[i], want[i], tol, 0.0)) {
      char buf[160];
      std::snprintf(buf, sizeof buf, " at [%zu]: got %.9g want %.9g (atol %.3g)", i, double(got[i]), double(want[i]), tol);
      fail(what + buf);
      return;
    }
  }
}

void check_config(const Config& c, size_t n, cudaStream_t stream) {
  std::vector<float> p = random_vec<float>(n, -1.0, 1.0), s1 = random_vec<float>(n, -0.1, 0.1),
                     s2 = random_vec<float>(n, 0.0, 0.01);
  if (c.kind == Kind::RmsProp || c.kind == Kind::Adagrad) s1 = random_vec<float>(n, 0.0, 0.01);  // mean squares >= 0
  std::vector<std::vector<float>> gs;
  for (int s = 0; s < kSteps; ++s) {
    gs.push_back(random_vec<float>(n, -1.0, 1.0));
    for (size_t i = s; i < n; i += 7) gs.back()[i] = 0.0f;
  }
  char what[200];
  std::snprintf(what, sizeof what, "cuda::%s(lr=%g, %g, %g, eps=%g%s) n=%zu, %d steps", c.name, c.lr, c.a, c.b, c.eps,
                c.kind == Kind::Adam ? (c.step0 > 1 ? ", t from 10" : ", t from 1") : "", n, kSteps);
  cuda::DeviceBuffer bp, bs1, bs2, bg;
  float *dp = nullptr, *ds1 = nullptr, *ds2 = nullptr, *dg = nullptr;
  if (!ct::upload(p, 1, kGuard, stream, &bp, &dp) || !ct::upload(s1, 0, kGuard, stream, &bs1, &ds1) ||
      !ct::upload(s2, 0, kGuard, stream, &bs2, &ds2))
    return;
  std::vector<float> rp = p, r1 = s1, r2 = s2;
  std::vector<double> mp(n, 0.0), m1(n, 0.0), m2(n, 0.0);  // summed |change| on the reference side
  for (int s = 0; s < kSteps; ++s) {
    if (!ct::upload(gs[s], 0, kGuard, stream, &bg, &dg)) return;
    const std::vector<float> op = rp, o1 = r1, o2 = r2;
    const int64_t nn = static_cast<int64_t>(n);
    cudaError_t e = cudaSuccess;
    switch (c.kind) {
      case Kind::Sgd:
        ref::sgd_step<float>(rp.data(), gs[s].data(), r1.data(), nn, c.lr, c.a, c.b != 0);
        e = cuda::sgd_step(dp, dg, c.a == 0 ? nullptr : ds1, nn, c.lr, c.a, c.b != 0, stream);
        break;
      case Kind::Adam:
        ref::adam_step<float>(rp.data(), gs[s].data(), r1.data(), r2.data(), nn, c.lr, c.a, c.b, c.eps, c.step0 + s);
        e = cuda::adam_step(dp, dg, ds1, ds2, nn, c.lr, c.a, c.b, c.eps, c.step0 + s, stream);
        break;
      case Kind::RmsProp:
        ref::rmsprop_step<float>(rp.data(), gs[s].data(), r1.data(), nn, c.lr, c.a, c.eps);
        e = cuda::rmsprop_step(dp, dg, ds1, nn, c.lr, c.a, c.eps, stream);
        break;
      case Kind::Adagrad:
        ref::adagrad_step<float>(rp.data(), gs[s].data(), r1.data(), nn, c.lr, c.eps);
        e = cuda::adagrad_step(dp, dg, ds1, nn, c.lr, c.eps, stream);
        break;
    }
    if (!ct::ok(e, what)) return;
    for (size_t i = 0; i < n; ++i) {
      mp[i] += std::fabs(double(rp[i]) - op[i]);
      m1[i] += std::fabs(double(r1[i]) - o1[i]);
      m2[i] += std::fabs(double(r2[i]) - o2[i]);
    }
  }
  std::vector<float> got;
  if (!ct::download(dp, n, stream, &got)) return;
  compare(got, rp, mp, std::string(what) + ": p");
  ct::guard_intact(dp, n, kGuard, stream, std::string(what) + ": p (guard)");
  if (!(c.kind == Kind::Sgd && c.a == 0)) {  // plain SGD has no state (its v must not be touched)
    if (!ct::download(ds1, n, stream, &got)) return;
    compare(got, r1, m1, std::string(what) + ": state 1");
    ct::guard_intact(ds1, n, kGuard, stream, std::string(what) + ": state 1 (guard)");
  }
  if (c.kind == Kind::Adam) {
    if (!ct::download(ds2, n, stream, &got)) return;
    compare(got, r2, m2, std::string(what) + ": v");
    ct::guard_intact(ds2, n, kGuard, stream, std::string(what) + ": v (guard)");
  }
}

int run(const char* name) {
  if (!ct::device_or_skip(name)) return ct::kSkipExit;
  const bool small = ct::small_mode();
  cudaStream_t stream = nullptr;
  if (!ct::ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return finish(name);

  const Config configs[] = {
      {Kind::Sgd, "sgd_step", 0.1, 0.0, 0, 0, 1},
      {Kind::Sgd, "sgd_step", 0.05, 0.9, 0, 0, 1},
      {Kind::Sgd, "sgd_step", 0.05, 0.9, 1, 0, 1},  // Nesterov
      {Kind::Adam, "adam_step", 1e-3, 0.9, 0.999, 1e-7, 1},
      {Kind::Adam, "adam_step", 0.01, 0.8, 0.99, 1e-3, 10},
      {Kind::RmsProp, "rmsprop_step", 1e-3, 0.9, 0, 1e-7, 1},
      {Kind::RmsProp, "rmsprop_step", 0.01, 0.5, 0, 1e-2, 1},
      {Kind::Adagrad, "adagrad_step", 0.01, 0, 0, 1e-7, 1},
      {Kind::Adagrad, "adagrad_step", 0.1, 0, 0, 1e-2, 1},
  };
  const size_t sizes[] = {1, 7, 33, 1000, 4097};
  for (const Config& c : configs)
    for (size_t n : sizes) check_config(c, n, stream);
  if (!small)
    for (const Config& c : configs) check_config(c, (size_t(1) << 22) + 5, stream);
  check(cuda::adam_step(nullptr, nullptr, nullptr, nullptr, 0, 1e-3, 0.9, 0.999, 1e-7, 1, stream) == cudaSuccess,
        "n = 0 does nothing");

  ct::ok(cudaStreamSynchronize(stream), "final cudaStreamSynchronize");
  ct::ok(cudaStreamDestroy(stream), "cudaStreamDestroy");
  return finish(name);
}

}  // namespace optim_test

#ifndef GF_CUDA_TEST_NO_MAIN
int main() { return optim_test::run("test_cuda_optim"); }
#endif

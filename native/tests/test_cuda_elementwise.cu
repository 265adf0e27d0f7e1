// CUDA elementwise kernels (native/cuda/elementwise.cu) against the references: relu,
// sigmoid, tanh against ref::unary (the CPU semantics: relu keeps NaN and -0, sigmoid saturates
// without overflow), on random data with NaN, +-Inf, -0 and large values mixed in, sizes 1, 7,
// 33, 100, 257, 1000 (and 2^20 + 3), out of place over NaN-poisoned outputs and in place, with
// guard floats after each output that must stay untouched; unsupported ops are refused. The bias
// add + relu over (rows, cols) against a host loop, with and without bias and relu, in place too.
// No device: "SKIP: <reason>", exit 77. GF_CUDA_SMALL=1: small sizes only.
#include <cuda_runtime_api.h>

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
                            -std::numeric_limits<float>::infinity(), -0.0f, 0.0f, 90.0f, -90.0f, 1e-30f, -1e-30f};
  for (size_t i = 0; i < n; i += 13) x[i] = specials[(i / 13) % (sizeof specials / sizeof specials[0])];
  return x;
}

void check_unary(UnaryOp op, const char* name, size_t n, cudaStream_t stream) {
  const std::vector<float> x = data(n);
  std::vector<float> want(n);
  ref::unary<float>(op, x.data(), want.data(), static_cast<int64_t>(n), 0.0f, 0.0f);
  // expf/tanhf are within 2 ulp on the device; relu is exact.
  const double tol = op == UnaryOp::Relu ? 0.0 : 4 * eps<float>();
  const std::string what = std::string("cuda::unary_forward(") + name + ") n=" + std::to_string(n);
  for (int inplace = 0; inplace < 2; ++inplace) {
    cuda::DeviceBuffer bx, bo;
    float *dx = nullptr, *dout = nullptr;
    if (!ct::upload(x, 0, kGuard, stream, &bx, &dx)) return;
    if (inplace) dout = dx;
    else if (!ct::upload(std::vector<float>(n, 0.0f), 0, kGuard, stream, &bo, &dout)) return;
    if (!inplace) ct::ok(cudaMemsetAsync(dout, 0xFF, n * sizeof(float), stream), "poison");  // NaN
    const std::string w = what + (inplace ? " in place" : "");
    if (!ct::ok(cuda::unary_forward(op, dx, dout, static_cast<int64_t>(n), stream), w)) return;
    std::vector<float> got;
    if (!ct::download(dout, n, stream, &got)) return;
    check_close(got.data(), want.data(), n, tol, tol, w);
    // relu: the sign of zero is kept (-0 stays -0), as on the CPU.
    if (op == UnaryOp::Relu)
      for (size_t i = 0; i < n; ++i)
        if (x[i] == 0.0f && std::signbit(got[i]) != std::signbit(x[i])) {
          fail(w + ": relu(-0) must stay -0 at " + std::to_string(i));
          break;
        }
    ct::guard_intact(dout, n, kGuard, stream, w + " (guard)");
  }
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

  std::vector<size_t> sizes = {1, 7, 33, 100, 257, 1000};
  if (!small) sizes.push_back((size_t(1) << 20) + 3);
  const struct { UnaryOp op; const char* name; } ops[] = {
      {UnaryOp::Relu, "relu"}, {UnaryOp::Sigmoid, "sigmoid"}, {UnaryOp::Tanh, "tanh"}};
  for (auto& o : ops) {
    check(cuda::unary_supported(o.op), std::string("unary_supported(") + o.name + ")");
    for (size_t n : sizes) check_unary(o.op, o.name, n, stream);
  }
  check(!cuda::unary_supported(UnaryOp::Exp) &&
            cuda::unary_forward(UnaryOp::Exp, nullptr, nullptr, 4, stream) == cudaErrorNotSupported,
        "an unsupported op is refused without a launch");
  check(cuda::unary_forward(UnaryOp::Relu, nullptr, nullptr, 0, stream) == cudaSuccess, "n = 0 does nothing");

  const std::vector<int64_t> dims = small ? std::vector<int64_t>{1, 7, 33, 100}
                                          : std::vector<int64_t>{1, 7, 33, 100, 257, 1000};
  int idx = 0;
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

// CUDA reductions (native/cuda/reduce.cu) against ref::reduce and ref::arg_reduce (double):
// every ReduceOp and ArgReduceOp over (outer, n, inner) views that reach each kernel (inner 1
// with n <= 1024: a warp per row; inner 1 with n > 1024: a block per row; inner > 1: the
// 32 x 8 column kernel, with inner not a multiple of 32 and n not a multiple of 8), sizes 1, 7,
// 33, 1000, 4097, n = 0 (the empty values) and n = 1; data in [-5, 5] with NaN in some
// positions (max/min/sum give NaN there; argmax/argmin the first NaN), +-Inf, and quantised
// values (many exact ties: the first index must win); outputs NaN-poisoned (int outputs
// poisoned with -1) with guard elements after them. Determinism: a second launch gives the
// same bits. Tolerances: sum/mean accumulate in double like the reference, so the only float
// error is the final rounding (1 ulp between two double results that straddle a rounding
// boundary) plus the double sums' difference in order, <= n * 2^-52 * max|x| absolute;
// max/min and the indices are exact. No device: "SKIP: <reason>", exit 77. GF_CUDA_SMALL=1:
// small shapes.
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cuda/reduce.h"
#include "cuda/testing.h"
#include "ref/ref.h"
#include "tests/test_util.h"

// GF_CUDA_EMULATED_TEST: also runs over the host emulation (test_cuda_emulated reduce).
namespace reduce_test {

using namespace gf;
using namespace gf::test;
namespace ct = gf::cuda::testing;

constexpr size_t kGuard = 8;

// kind 0: plain; 1: NaN in some (o, i) positions and +-Inf in others; 2: values in {-2..2}
// (ties everywhere, for the arg-reductions).
std::vector<float> data(int64_t outer, int64_t n, int64_t inner, int kind) {
  const size_t total = static_cast<size_t>(outer * n * inner);
  std::vector<float> x = random_vec<float>(total, -5.0, 5.0);
  if (kind == 2)
    for (float& v : x) v = std::round(v / 2.5f);
  if (kind == 1 && n > 0) {
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t pos = o * inner + i;
        auto at = [&](int64_t k) -> float& { return x[static_cast<size_t>((o * n + k) * inner + i)]; };
        if (pos % 3 == 0) at((pos * 7) % n) = nan;
        if (pos % 3 == 0 && n > 2) at((pos * 7 + n / 2) % n) = nan;  // a second NaN: the first wins
        if (pos % 5 == 1) at((pos * 3) % n) = inf;
        if (pos % 5 == 2) at((pos * 3) % n) = -inf;
      }
  }
  return x;
}

void check_reduce(ReduceOp op, const char* name, int64_t outer, int64_t n, int64_t inner, int kind,
                  cudaStream_t stream) {
  const std::vector<float> x = data(outer, n, inner, kind);
  const size_t m = static_cast<size_t>(outer * inner);
  std::vector<float> want(m);
  ref::reduce<float>(op, x.data(), outer, n, inner, want.data());
  double amax = 0;
  for (float v : x)
    if (std::isfinite(v)) amax = std::max(amax, double(std::fabs(v)));
  const bool sum = op == ReduceOp::Sum || op == ReduceOp::Mean;
  const double atol = sum ? double(n) * std::ldexp(1.0, -52) * amax + 1e-30 : 0.0;
  const double rtol = sum ? eps<float>() : 0.0;
  char what[160];
  std::snprintf(what, sizeof what, "cuda::reduce(%s) outer=%lld n=%lld inner=%lld kind=%d", name, (long long)outer,
                (long long)n, (long long)inner, kind);
  cuda::DeviceBuffer bx, bo;
  float *dx = nullptr, *dout = nullptr;
  if (!ct::upload(x, 1, kGuard, stream, &bx, &dx) ||
      !ct::upload(std::vector<float>(m, std::numeric_limits<float>::quiet_NaN()), 0, kGuard, stream, &bo, &dout))
    return;
  if (!ct::ok(cuda::reduce(op, dx, outer, n, inner, dout, stream), what)) return;
  std::vector<float> got, again;
  if (!ct::download(dout, m, stream, &got)) return;
  check_close(got.data(), want.data(), m, atol, rtol, what);
  ct::guard_intact(dout, m, kGuard, stream, std::string(what) + " (guard)");
  if (kind == 0 && outer * inner <= 64) {  // a rerun gives the same bits: a fixed order
    if (!ct::ok(cuda::reduce(op, dx, outer, n, inner, dout, stream), what) || !ct::download(dout, m, stream, &again)) return;
    check(std::memcmp(got.data(), again.data(), m * sizeof(float)) == 0, std::string(what) + ": deterministic");
  }
}

void check_arg(ArgReduceOp op, const char* name, int64_t outer, int64_t n, int64_t inner, int kind, cudaStream_t stream) {
  const std::vector<float> x = data(outer, n, inner, kind);
  const size_t m = static_cast<size_t>(outer * inner);
  std::vector<int32_t> want(m);
  ref::arg_reduce<float>(op, x.data(), outer, n, inner, want.data());
  char what[160];
  std::snprintf(what, sizeof what, "cuda::arg_reduce(%s) outer=%lld n=%lld inner=%lld kind=%d", name, (long long)outer,
                (long long)n, (long long)inner, kind);
  cuda::DeviceBuffer bx, bo;
  float* dx = nullptr;
  if (!ct::upload(x, 0, 0, stream, &bx, &dx)) return;
  // The int output: -1 everywhere (0xFF bytes), guard ints after it must stay -1.
  if (!ct::ok(bo.allocate((m + kGuard) * sizeof(int32_t), stream), "allocate") ||
      !ct::ok(cudaMemsetAsync(bo.get(), 0xFF, (m + kGuard) * sizeof(int32_t), stream), "poison"))
    return;
  int32_t* dout = bo.as<int32_t>();
  if (!ct::ok(cuda::arg_reduce(op, dx, outer, n, inner, dout, stream), what)) return;
  std::vector<int32_t> got(m + kGuard);
  if (!ct::ok(cudaMemcpyAsync(got.data(), dout, got.size() * sizeof(int32_t), cudaMemcpyDeviceToHost, stream), "D2H") ||
      !ct::ok(cudaStreamSynchronize(stream), "sync"))
    return;
  ++checks();
  for (size_t i = 0; i < m; ++i)
    if (got[i] != want[i]) {
      fail(std::string(what) + " at [" + std::to_string(i) + "]: got " + std::to_string(got[i]) + " want " +
           std::to_string(want[i]));
      break;
    }
  bool guard = true;
  for (size_t i = m; i < m + kGuard; ++i) guard = guard && got[i] == -1;
  check(guard, std::string(what) + " (guard)");
}

int run(const char* name) {
  if (!ct::device_or_skip(name)) return ct::kSkipExit;
  const bool small = ct::small_mode();
  cudaStream_t stream = nullptr;
  if (!ct::ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return finish(name);

  struct Shape { int64_t outer, n, inner; };
  std::vector<Shape> shapes = {
      {1, 1, 1},    {7, 1, 1},    {1, 7, 1},    {7, 33, 1},   {3, 1000, 1}, {2, 1024, 1},  // warp rows
      {1, 1025, 1}, {2, 4097, 1},                                                      // block rows
      {1, 7, 33},   {2, 33, 7},   {3, 1000, 3}, {1, 1, 1000}, {2, 9, 33}, {1, 4097, 2},  // columns
  };
  if (!small) {
    shapes.push_back({1000, 257, 1});
    shapes.push_back({70000, 3, 1});  // more rows than the grid: strided
    shapes.push_back({33, 1000, 100});
    shapes.push_back({1, 1 << 20, 1});
    shapes.push_back({3000, 100, 33});
  }
  const struct { ReduceOp op; const char* name; } ops[] = {
      {ReduceOp::Sum, "sum"}, {ReduceOp::Mean, "mean"}, {ReduceOp::Max, "max"}, {ReduceOp::Min, "min"}};
  const struct { ArgReduceOp op; const char* name; } aops[] = {{ArgReduceOp::ArgMax, "argmax"}, {ArgReduceOp::ArgMin, "argmin"}};
  for (const Shape& s : shapes) {
    for (const auto& o : ops)
      for (int kind = 0; kind < 2; ++kind) check_reduce(o.op, o.name, s.outer, s.n, s.inner, kind, stream);
    for (const auto& o : aops)
      for (int kind = 1; kind < 3; ++kind) check_arg(o.op, o.name, s.outer, s.n, s.inner, kind, stream);
  }
  // n == 0: the empty values, by either kernel.
  for (const auto& o : ops) {
    check_reduce(o.op, o.name, 3, 0, 1, 0, stream);
    check_reduce(o.op, o.name, 2, 0, 33, 0, stream);
  }
  check(cuda::arg_reduce(ArgReduceOp::ArgMax, nullptr, 3, 0, 1, nullptr, stream) == cudaErrorInvalidValue,
        "arg_reduce with n = 0 is refused");
  check(cuda::reduce(ReduceOp::Sum, nullptr, 0, 5, 5, nullptr, stream) == cudaSuccess, "outer = 0 does nothing");
  check(cuda::arg_reduce(ArgReduceOp::ArgMin, nullptr, 4, 5, 0, nullptr, stream) == cudaSuccess, "inner = 0 does nothing");

  ct::ok(cudaStreamSynchronize(stream), "final cudaStreamSynchronize");
  ct::ok(cudaStreamDestroy(stream), "cudaStreamDestroy");
  return finish(name);
}

}  // namespace reduce_test

#ifndef GF_CUDA_TEST_NO_MAIN
int main() { return reduce_test::run("test_cuda_reduce"); }
#endif

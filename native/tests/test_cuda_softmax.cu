// CUDA row softmax / log-softmax (native/cuda/softmax.cu) against ref::softmax (double):
// rows and cols 1, 7, 33, 100, 257, 1000, and cols at every warp-kernel bucket edge (32, 64,
// ..., 1024) and past it (1025, 4097: the block kernel); logits in [-5, 5] with some rows
// shifted by +-100 (an unstable kernel overflows exp there); rows holding NaN, +Inf, only
// -Inf (NaN rows, as on the CPU) or some -Inf (those probabilities are exactly 0); out of
// place over NaN-poisoned outputs and in place, with guard floats after the output.
// Tolerance: the float row sum has error ~ (cols / 32 + 16) eps (per-lane sums, then a tree),
// plus a few ulp of expf/logf. No device: "SKIP: <reason>", exit 77. GF_CUDA_SMALL=1: small.
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "cuda/softmax.h"
#include "cuda/testing.h"
#include "ref/ref.h"
#include "tests/test_util.h"

// GF_CUDA_EMULATED_TEST: also runs over the host emulation (test_cuda_emulated softmax).
namespace softmax_test {

using namespace gf;
using namespace gf::test;
namespace ct = gf::cuda::testing;

constexpr size_t kGuard = 8;

std::vector<float> logits(int64_t rows, int64_t cols, bool specials) {
  std::vector<float> x = random_vec<float>(static_cast<size_t>(rows * cols), -5.0, 5.0);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x.data() + r * cols;
    const int kind = static_cast<int>(r % 7);
    if (kind == 1 || kind == 2)
      for (int64_t j = 0; j < cols; ++j) row[j] += kind == 1 ? 100.0f : -100.0f;
    if (!specials) continue;
    const float inf = std::numeric_limits<float>::infinity();
    if (kind == 3) row[cols / 2] = std::numeric_limits<float>::quiet_NaN();
    if (kind == 4) row[cols - 1] = inf;
    if (kind == 5)
      for (int64_t j = 0; j < cols; ++j) row[j] = -inf;
    if (kind == 6)
      for (int64_t j = 0; j < cols; j += 3) row[j] = -inf;
  }
  return x;
}

void check_softmax(int64_t rows, int64_t cols, bool log, bool inplace, cudaStream_t stream) {
  const size_t n = static_cast<size_t>(rows * cols);
  // With one column, a row of one -Inf is still NaN on both sides; specials need a few columns.
  const std::vector<float> x = logits(rows, cols, cols >= 3);
  std::vector<float> want(n);
  ref::softmax<float>(x.data(), rows, cols, want.data(), log);
  const double sum_rel = 2.0 * (double(cols) / 32.0 + 16.0) * eps<float>();
  const double atol = log ? sum_rel + 4 * eps<float>() : 1e-30;
  const double rtol = log ? 4 * eps<float>() : sum_rel + 4 * eps<float>();
  char what[160];
  std::snprintf(what, sizeof what, "cuda::softmax_forward(%s) rows=%lld cols=%lld%s", log ? "log" : "softmax",
                (long long)rows, (long long)cols, inplace ? " in place" : "");
  cuda::DeviceBuffer bx, bo;
  float *dx = nullptr, *dout = nullptr;
  if (!ct::upload(x, 0, kGuard, stream, &bx, &dx)) return;
  if (inplace) dout = dx;
  else if (!ct::upload(std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()), 0, kGuard, stream, &bo, &dout))
    return;
  if (!ct::ok(cuda::softmax_forward(dx, rows, cols, dout, log, stream), what)) return;
  std::vector<float> got;
  if (!ct::download(dout, n, stream, &got)) return;
  check_close(got.data(), want.data(), n, atol, rtol, what);
  ct::guard_intact(dout, n, kGuard, stream, std::string(what) + " (guard)");
}

int run(const char* name) {
  if (!ct::device_or_skip(name)) return ct::kSkipExit;
  const bool small = ct::small_mode();
  cudaStream_t stream = nullptr;
  if (!ct::ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return finish(name);

  const std::vector<int64_t> rows = small ? std::vector<int64_t>{1, 7, 9} : std::vector<int64_t>{1, 7, 33, 100, 257, 1000};
  std::vector<int64_t> cols = small ? std::vector<int64_t>{1, 7, 33, 100, 257, 1000, 1025}
                                    : std::vector<int64_t>{1, 7, 33, 100, 257, 1000, 32, 64, 65, 128, 256, 512,
                                                           513, 1024, 1025, 4097};
  int idx = 0;
  for (int64_t r : rows)
    for (int64_t c : cols) {
      for (int log = 0; log < 2; ++log) check_softmax(r, c, log != 0, idx % 4 == 3, stream);
      ++idx;
    }
  if (!small) {
    check_softmax(70000, 10, false, false, stream);  // more rows than the grid: strided
    check_softmax(3, 100000, true, true, stream);    // long rows, block kernel
  }
  check(cuda::softmax_forward(nullptr, 0, 10, nullptr, false, stream) == cudaSuccess, "rows = 0 does nothing");
  check(cuda::softmax_forward(nullptr, 10, 0, nullptr, true, stream) == cudaSuccess, "cols = 0 does nothing");

  ct::ok(cudaStreamSynchronize(stream), "final cudaStreamSynchronize");
  ct::ok(cudaStreamDestroy(stream), "cudaStreamDestroy");
  return finish(name);
}

}  // namespace softmax_test

#ifndef GF_CUDA_TEST_NO_MAIN
int main() { return softmax_test::run("test_cuda_softmax"); }
#endif

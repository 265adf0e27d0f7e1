// Quick GEMM throughput check in C++ (not a test; not run by ctest). The full benchmark, with
// the FMA peak and numpy side by side, is bench/gemm.ts (`npm run bench:gemm`).
//   build/bench_gemm [size=1024 | MxKxN] [threads=1] [kernel=all] [ops=nn | tn | nt | tt]
// Prints GFLOP/s of C = op(A)*op(B) (float, beta = 0; ops: t = that operand transposed, as
// backward's products are: dW = X^T dY is tn, dX = dY W^T is nt) for each available micro-kernel
// (or the one named): the best of 5 timed samples after a warm-up, each sample a loop of calls
// lasting >= 20 ms (small shapes take microseconds per call).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cpu/cpu_features.h"
#include "cpu/gemm.h"
#include "cpu/threadpool.h"

int main(int argc, char** argv) {
  long long m = 1024, k = 1024, n = 1024;
  if (argc > 1) {
    if (std::sscanf(argv[1], "%lldx%lldx%lld", &m, &k, &n) != 3) m = k = n = std::atoll(argv[1]);
  }
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const std::string only = argc > 3 ? argv[3] : "all";
  const std::string ops = argc > 4 ? argv[4] : "nn";
  const bool ta = ops.size() == 2 && ops[0] == 't', tb = ops.size() == 2 && ops[1] == 't';
  gf::set_num_threads(threads);
  std::vector<float> A(m * k, 0.5f), B(k * n, 0.25f), C(m * n);
  auto call = [&] {
    gf::gemm<float>(ta, tb, m, n, k, 1.0f, A.data(), ta ? m : k, B.data(), tb ? k : n, 0.0f,
                    C.data(), n);
  };
  auto now = [] { return std::chrono::steady_clock::now(); };
  for (const std::string& kn : gf::available_gemm_kernels()) {
    if (only != "all" && only != kn) continue;
    gf::set_gemm_kernel(kn);
    call();
    auto t0 = now();
    call();
    double one = std::chrono::duration<double>(now() - t0).count();
    const long reps = one > 0.02 ? 1 : static_cast<long>(0.02 / (one > 1e-9 ? one : 1e-9)) + 1;
    double best = 1e30;
    for (int s = 0; s < 5; ++s) {
      t0 = now();
      for (long r = 0; r < reps; ++r) call();
      double sec = std::chrono::duration<double>(now() - t0).count() / reps;
      if (sec < best) best = sec;
    }
    std::printf("sgemm %lldx%lldx%lld %s kernel=%-6s threads=%d: %6.1f GFLOP/s (%.4f ms)\n", m, k,
                n, ops.c_str(), kn.c_str(), threads, 2.0 * m * n * k / best / 1e9, best * 1e3);
  }
  return 0;
}

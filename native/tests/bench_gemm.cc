// Quick GEMM throughput check (not a test; not run by ctest):
//   build/bench_gemm [size=1024] [threads=1] [kernel=all]
// Prints GFLOP/s of C = A*B (float, no transposes, beta = 0) for each available micro-kernel
// (or the one named), best of a few repetitions after a warm-up.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cpu/cpu_features.h"
#include "cpu/gemm.h"
#include "cpu/threadpool.h"

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 1024;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const std::string only = argc > 3 ? argv[3] : "all";
  gf::set_num_threads(threads);
  std::vector<float> A(n * n, 0.5f), B(n * n, 0.25f), C(n * n);
  for (const std::string& k : gf::available_gemm_kernels()) {
    if (only != "all" && only != k) continue;
    gf::set_gemm_kernel(k);
    double best = 1e30;
    for (int rep = 0; rep < 4; ++rep) {
      auto t0 = std::chrono::steady_clock::now();
      gf::gemm<float>(false, false, n, n, n, 1.0f, A.data(), n, B.data(), n, 0.0f, C.data(), n);
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (rep > 0 && s < best) best = s;  // rep 0 warms caches and scratch buffers
    }
    std::printf("sgemm %lld^3 kernel=%-6s threads=%d: %6.1f GFLOP/s (%.2f ms)\n", (long long)n,
                k.c_str(), threads, 2.0 * n * n * n / best / 1e9, best * 1e3);
  }
  return 0;
}

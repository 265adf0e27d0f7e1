// FMA peak driver (see fma_peak.h): picks the ISA loop, runs it on `threads` plain std::threads
// at once (not the pool: its caller may take every chunk itself, which would time one thread),
// and divides the flops by the wall time of the slowest thread.
#include "cpu/fma_peak.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "cpu/cpu_features.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gf {
namespace {

// Baseline x86-64 (SSE2, no FMA): 12 chains of mul+add, the best the "ref" kernel could do.
float chains_sse2(int64_t iters, double* flops) {
#if defined(__SSE2__)
  constexpr int kChains = 12;
  __m128 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm_set1_ps(1e-3f * static_cast<float>(i));
  const __m128 m = _mm_set1_ps(0.999999f), add = _mm_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm_add_ps(_mm_mul_ps(acc[i], m), add);
  }
  __m128 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm_add_ps(s, acc[i]);
  *flops += 2.0 * 4 * kChains * static_cast<double>(iters);
  return _mm_cvtss_f32(s);
#else
  float acc[8] = {};
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 8; ++i) acc[i] = acc[i] * 0.999999f + 1e-7f;
  *flops += 2.0 * 8 * static_cast<double>(iters);
  return acc[0] + acc[7];
#endif
}

using ChainFn = float (*)(int64_t, double*);

}  // namespace

double fma_peak_gflops(const char* isa, int threads, double seconds) {
  ChainFn fn = nullptr;
  if (std::strcmp(isa, "avx512") == 0) {
    if (gemm_kernel_available(GemmKernel::Avx512)) fn = fma_chains_avx512;
  } else if (std::strcmp(isa, "avx2") == 0) {
    if (gemm_kernel_available(GemmKernel::Avx2)) fn = fma_chains_avx2;
  } else if (std::strcmp(isa, "sse2") == 0) {
    fn = chains_sse2;
  }
  if (!fn) return -1.0;
  threads = std::max(1, std::min(threads, 256));
  seconds = std::max(0.001, std::min(seconds, 10.0));

  // Calibrate on the calling thread: rounds of `chunk` iterations for ~5% of the time.
  volatile float sink = 0;
  int64_t chunk = 1 << 16;
  {
    double f = 0;
    auto t0 = std::chrono::steady_clock::now();
    sink = fn(chunk, &f);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0) chunk = std::max<int64_t>(1024, static_cast<int64_t>(chunk * (seconds / 20) / s));
  }

  std::vector<double> flops(threads, 0.0), secs(threads, 0.0);
  auto body = [&](int t) {
    float local = 0;
    auto t0 = std::chrono::steady_clock::now();
    double s = 0;
    do {
      local += fn(chunk, &flops[t]);
      s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (s < seconds);
    secs[t] = s;
    sink = local;
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back(body, t);
  body(0);
  for (auto& w : workers) w.join();
  (void)sink;
  double total = 0, wall = 0;
  for (int t = 0; t < threads; ++t) {
    total += flops[t];
    wall = std::max(wall, secs[t]);
  }
  return total / wall / 1e9;
}

}  // namespace gf

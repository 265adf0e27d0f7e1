// AVX2+FMA peak probe (see fma_peak.h): 12 independent ymm FMA chains (2 FMA ports x 4-cycle
// latency = 8 needed; 12 of the 16 ymm registers). Compiled with -mavx2 -mfma.
#include <immintrin.h>

#include "cpu/fma_peak.h"

namespace gf {

float fma_chains_avx2(int64_t iters, double* flops) {
  constexpr int kChains = 12;
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(1e-3f * static_cast<float>(i));
  const __m256 m = _mm256_set1_ps(0.999999f), add = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, add);
  }
  __m256 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm256_add_ps(s, acc[i]);
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  *flops += 2.0 * 8 * kChains * static_cast<double>(iters);
  return out[0] + out[7];
}

}  // namespace gf

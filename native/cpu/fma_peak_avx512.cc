// AVX-512 peak probe (see fma_peak.h): 24 independent zmm FMA chains. Sapphire Rapids / Ice
// Lake server / Zen 4 retire at most 2 zmm FMAs per cycle with 4-cycle latency, so 8 chains
// would saturate; 24 leaves margin for any core. Compiled with -mavx512f.
#include <immintrin.h>

#include "cpu/fma_peak.h"

namespace gf {

float fma_chains_avx512(int64_t iters, double* flops) {
  constexpr int kChains = 24;
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(1e-3f * static_cast<float>(i));
  const __m512 m = _mm512_set1_ps(0.999999f), add = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, add);
  }
  __m512 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float out[16];
  _mm512_store_ps(out, s);
  *flops += 2.0 * 16 * kChains * static_cast<double>(iters);
  return out[0] + out[15];
}

}  // namespace gf

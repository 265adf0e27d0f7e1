// Max pooling rows of pool.h for one instruction set each, in files compiled with its -m flags.
// Internal to pool.cc: call one only after cpu_features says the CPU can run it.
#pragma once
#include <cstdint>

#include "cpu/pool.h"

namespace gf {

// maxpool2d_forward without argmax (pool.h's rule) on output rows [i0, i1) of i = n*OH + oh.
void maxpool2d_rows_avx512_f32(const Pool2dShape& s, const float* x, float* y, int64_t i0,
                               int64_t i1);

}  // namespace gf

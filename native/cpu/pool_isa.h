// Max pooling rows of pool.h for one instruction set each, in files compiled with its -m flags.
// Internal to pool.cc: call one only after cpu_features says the CPU can run it.
#pragma once
#include <cstdint>

#include "cpu/pool.h"

namespace gf {

// maxpool2d_forward without argmax (pool.h's rule) on output rows [i0, i1) of i = n*OH + oh.
void maxpool2d_rows_avx512_f32(const Pool2dShape& s, const float* x, float* y, int64_t i0,
                               int64_t i1);
// The same with argmax (training).
void maxpool2d_argmax_rows_avx512_f32(const Pool2dShape& s, const float* x, float* y,
                                      int32_t* argmax, int64_t i0, int64_t i1);
// maxpool2d_backward (pool.h's rule, the same sums in the same order) on images [n0, n1).
void maxpool2d_backward_images_avx512_f32(const Pool2dShape& s, const float* dy,
                                          const int32_t* argmax, float* dx, int64_t n0,
                                          int64_t n1);

// Zeroes the pixels of one image's dx (H*W*C floats) that no window of s covers, for windows
// that do not overlap (strides >= window): the disjoint backward passes store every covered one.
void maxpool2d_zero_uncovered(const Pool2dShape& s, float* dxn);

// The same three on AVX2 (8-lane runs; the last C % 8 channels scalar).
void maxpool2d_rows_avx2_f32(const Pool2dShape& s, const float* x, float* y, int64_t i0,
                             int64_t i1);
void maxpool2d_argmax_rows_avx2_f32(const Pool2dShape& s, const float* x, float* y,
                                    int32_t* argmax, int64_t i0, int64_t i1);
void maxpool2d_backward_images_avx2_f32(const Pool2dShape& s, const float* dy,
                                        const int32_t* argmax, float* dx, int64_t n0,
                                        int64_t n1);

}  // namespace gf

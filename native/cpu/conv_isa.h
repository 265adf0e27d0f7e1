// Convolution kernels of conv.h for one instruction set each, in files compiled with its -m
// flags. Internal to conv.cc: call one only after cpu_features says the CPU can run it.
#pragma once
#include <cstdint>

#include "cpu/conv_shape.h"

namespace gf {

// Output pixels [r0, r1) (im2col rows: r = (n*OH + oh)*OW + ow) of conv2d_forward computed
// directly, without an im2col matrix, into y (row r0 first, O floats a row), for a small
// KH*KW*C (first layers: one or three input channels). Bit for bit what im2col + the AVX-512
// GEMM give: per output element one FMA chain from zero over (kh, kw, c) in im2col's column
// order, out-of-input taps included as zeros, then + bias, then relu (v < 0 ? 0 : v).
void conv2d_direct_rows_avx512_f32(const Conv2dShape& s, const float* x, const float* w,
                                   const float* bias, bool relu, int64_t r0, int64_t r1, float* y);

// The filter gradient of conv2d over output pixels [r0, r1), computed directly for the same
// small KH*KW*C: dw (KH*KW*C, O) = sum over those pixels of im2col row (x) times dy row,
// overwritten; db (O doubles), when not null, gets the pixels' dy column sums added.
void conv2d_direct_filter_avx512_f32(const Conv2dShape& s, const float* x, const float* dy,
                                     int64_t r0, int64_t r1, float* dw, double* db);

}  // namespace gf

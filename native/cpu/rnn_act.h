// Float activation spans for the recurrent gate passes: sigmoid and tanh over a contiguous run
// of n floats, out of place (x, y not overlapping) or in place (x == y).
// It is: the choice between the AVX-512, AVX2+FMA and scalar versions (the GEMM's ISA, so
// GRADFORGE_GEMM_KERNEL=ref forces the scalar one), and the declarations of the ISA-specific
// ones.
// The vector versions use a Cody-Waite exp with a degree-7 polynomial and, for tanh near 0, an
// odd polynomial: within 2e-7 absolute and a few ulp of the exact values, saturating to
// exactly 0 / 1 / +-1 at the ends; NaN in gives NaN out. The scalar version is std::tanh and
// 1 / (1 + std::exp(-x)).
// It is not: double (the gate passes keep std:: math for double) or the other activations.
// Only declarations here (no inline code): this header is included by the AVX files too.
#pragma once
#include <cstdint>

namespace gf {

// The ISA is the GEMM's (cpu_features.h): GRADFORGE_GEMM_KERNEL and gf.setGemmKernel choose
// it for both, so one setting moves every CPU kernel to AVX-512, AVX2 or the baseline. Declared
// opaquely: cpu_features.h pulls in <string>/<vector>, whose inline code must not be compiled
// into the AVX files.
enum class GemmKernel;

// y[i] = 1 / (1 + exp(-x[i])), in the ISA of current_gemm_kernel().
void sigmoid_span_f32(const float* x, float* y, int64_t n);
// y[i] = tanh(x[i]), in the ISA of current_gemm_kernel().
void tanh_span_f32(const float* x, float* y, int64_t n);

// One explicit ISA (for tests); one this CPU cannot run falls back to the scalar version.
void sigmoid_span_f32_isa(GemmKernel isa, const float* x, float* y, int64_t n);
void tanh_span_f32_isa(GemmKernel isa, const float* x, float* y, int64_t n);

// The ISA-specific versions (rnn_act_avx2.cc, rnn_act_avx512.cc): call only when available.
void rnn_act_avx2_sigmoid_f32(const float* x, float* y, int64_t n);
void rnn_act_avx2_tanh_f32(const float* x, float* y, int64_t n);
void rnn_act_avx512_sigmoid_f32(const float* x, float* y, int64_t n);
void rnn_act_avx512_tanh_f32(const float* x, float* y, int64_t n);

}  // namespace gf

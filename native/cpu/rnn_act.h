// Float activation spans for the recurrent gate passes: sigmoid and tanh over a contiguous run
// of n floats, out of place (x, y not overlapping) or in place (x == y).
// It is: the run-time choice (once, from cpu_features) between the AVX-512, AVX2+FMA and
// scalar versions, and the declarations of the ISA-specific ones. GRADFORGE_GEMM_KERNEL=ref
// forces the scalar version, GRADFORGE_GEMM_KERNEL=avx2 the AVX2 one (when this CPU has it).
// The vector versions use a Cody-Waite exp with a degree-7 polynomial and, for tanh near 0, an
// odd polynomial: within 2e-7 absolute and a few ulp of the exact values, saturating to
// exactly 0 / 1 / +-1 at the ends; NaN in gives NaN out. The scalar version is std::tanh and
// 1 / (1 + std::exp(-x)).
// It is not: double (the gate passes keep std:: math for double) or the other activations.
// Only declarations here (no inline code): this header is included by the AVX files too.
#pragma once
#include <cstdint>

namespace gf {

enum class RnnActIsa { Scalar, Avx2, Avx512 };

// y[i] = 1 / (1 + exp(-x[i])), with the version chosen at first use.
void sigmoid_span_f32(const float* x, float* y, int64_t n);
// y[i] = tanh(x[i]), with the version chosen at first use.
void tanh_span_f32(const float* x, float* y, int64_t n);

// The version the two functions above use.
RnnActIsa rnn_act_isa();
const char* rnn_act_isa_name(RnnActIsa isa);
// Whether this CPU can run that version (Scalar always).
bool rnn_act_isa_available(RnnActIsa isa);
// One explicit version (for tests); one this CPU cannot run falls back to Scalar.
void sigmoid_span_f32_isa(RnnActIsa isa, const float* x, float* y, int64_t n);
void tanh_span_f32_isa(RnnActIsa isa, const float* x, float* y, int64_t n);

// The ISA-specific versions (rnn_act_avx2.cc, rnn_act_avx512.cc): call only when available.
void rnn_act_avx2_sigmoid_f32(const float* x, float* y, int64_t n);
void rnn_act_avx2_tanh_f32(const float* x, float* y, int64_t n);
void rnn_act_avx512_sigmoid_f32(const float* x, float* y, int64_t n);
void rnn_act_avx512_tanh_f32(const float* x, float* y, int64_t n);

}  // namespace gf

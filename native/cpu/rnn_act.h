// Float vector code for the recurrent gate passes: sigmoid and tanh over a contiguous run of n
// floats, out of place (x, y not overlapping) or in place (x == y), and the backward gate pass
// of one batch row for the default activations (tanh, sigmoid).
// It is: the choice between the AVX-512, AVX2+FMA and scalar versions (the GEMM's ISA, so
// GRADFORGE_GEMM_KERNEL=ref forces the scalar one), and the declarations of the ISA-specific
// ones.
// The vector activations use a Cody-Waite exp with a degree-7 polynomial and, for tanh near 0,
// an odd polynomial: within 2e-7 absolute and a few ulp of the exact values, saturating to
// exactly 0 / 1 / +-1 at the ends; NaN in gives NaN out. The scalar version is std::tanh and
// 1 / (1 + std::exp(-x)). The gate-gradient rows are rnn_grad.h's formulas, unfused and in
// its order, so every version gives the scalar version's bits (given the same tanh of c_t).
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

// The backward gate pass of one batch row, activation tanh and recurrent_activation sigmoid
// (the arguments and formulas of rnn_grad.h's functions of the same names).
struct RnnGradRowsF32 {
  void (*lstm)(const float* g, const float* cp, const float* dy, int64_t U, float* dh,
               float* dc, float* dg);
  void (*gru_reset_after)(const float* g, const float* hs, const float* rech, const float* dy,
                          int64_t U, float* dh, float* dg, float* dr);
  void (*gru_reset_before_zh)(const float* g, const float* hs, const float* dy, int64_t U,
                              float* dh, float* dg);
  void (*gru_reset_before_r)(const float* g, const float* hd, float* drh, int64_t U, float* dh,
                             float* dg);
  void (*simple_rnn)(const float* g, const float* dy, int64_t U, float* dh, float* dg);
};

// The versions in the ISA of current_gemm_kernel(), or of one explicit ISA (for tests; one
// this CPU cannot run gives the scalar versions).
RnnGradRowsF32 rnn_grad_rows_f32();
RnnGradRowsF32 rnn_grad_rows_f32_isa(GemmKernel isa);

// The ISA-specific versions: call only when available.
#define GF_RNN_GRAD_DECLARE(isa)                                                             \
  void rnn_act_##isa##_lstm_grad_f32(const float*, const float*, const float*, int64_t,     \
                                     float*, float*, float*);                               \
  void rnn_act_##isa##_gru_reset_after_grad_f32(const float*, const float*, const float*,   \
                                                const float*, int64_t, float*, float*,      \
                                                float*);                                    \
  void rnn_act_##isa##_gru_reset_before_zh_grad_f32(const float*, const float*,             \
                                                    const float*, int64_t, float*, float*); \
  void rnn_act_##isa##_gru_reset_before_r_grad_f32(const float*, const float*, float*,      \
                                                   int64_t, float*, float*);                \
  void rnn_act_##isa##_simple_rnn_grad_f32(const float*, const float*, int64_t, float*,     \
                                           float*);
GF_RNN_GRAD_DECLARE(avx2)
GF_RNN_GRAD_DECLARE(avx512)
#undef GF_RNN_GRAD_DECLARE

}  // namespace gf

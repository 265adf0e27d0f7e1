// Run-time choice of the float sigmoid / tanh span and gate-gradient row versions (the GEMM's
// ISA), and the scalar fallbacks (see rnn_act.h; the scalar rows are rnn_grad.h's). Baseline
// x86-64 code: it only calls the AVX files' functions after cpu_features says their ISA is
// there. Not here: any vector code.
#include "cpu/rnn_act.h"

#include <cmath>

#include "cpu/cpu_features.h"
#include "cpu/rnn_grad.h"

namespace gf {
namespace {

void sigmoid_scalar(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
}

void tanh_scalar(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

using SpanFn = void (*)(const float*, float*, int64_t);

struct Spans {
  SpanFn sigmoid, tanh;
};

// isa must be one this CPU runs (current_gemm_kernel() always is).
Spans spans_for(GemmKernel isa) {
  switch (isa) {
    case GemmKernel::Avx512: return {rnn_act_avx512_sigmoid_f32, rnn_act_avx512_tanh_f32};
    case GemmKernel::Avx2: return {rnn_act_avx2_sigmoid_f32, rnn_act_avx2_tanh_f32};
    case GemmKernel::Ref: break;
  }
  return {sigmoid_scalar, tanh_scalar};
}

}  // namespace

void sigmoid_span_f32(const float* x, float* y, int64_t n) { spans_for(current_gemm_kernel()).sigmoid(x, y, n); }
void tanh_span_f32(const float* x, float* y, int64_t n) { spans_for(current_gemm_kernel()).tanh(x, y, n); }

void sigmoid_span_f32_isa(GemmKernel isa, const float* x, float* y, int64_t n) {
  spans_for(gemm_kernel_available(isa) ? isa : GemmKernel::Ref).sigmoid(x, y, n);
}
void tanh_span_f32_isa(GemmKernel isa, const float* x, float* y, int64_t n) {
  spans_for(gemm_kernel_available(isa) ? isa : GemmKernel::Ref).tanh(x, y, n);
}

namespace {

#define GF_RNN_GRAD_ROWS(isa)                                                                \
  RnnGradRowsF32{rnn_act_##isa##_lstm_grad_f32, rnn_act_##isa##_gru_reset_after_grad_f32,   \
                 rnn_act_##isa##_gru_reset_before_zh_grad_f32,                              \
                 rnn_act_##isa##_gru_reset_before_r_grad_f32,                               \
                 rnn_act_##isa##_simple_rnn_grad_f32}

// isa must be one this CPU runs.
RnnGradRowsF32 grad_rows_for(GemmKernel isa) {
  switch (isa) {
    case GemmKernel::Avx512: return GF_RNN_GRAD_ROWS(avx512);
    case GemmKernel::Avx2: return GF_RNN_GRAD_ROWS(avx2);
    case GemmKernel::Ref: break;
  }
  return {rnn_grad::lstm<float>, rnn_grad::gru_reset_after<float>,
          rnn_grad::gru_reset_before_zh<float>, rnn_grad::gru_reset_before_r<float>,
          rnn_grad::simple_rnn<float>};
}
#undef GF_RNN_GRAD_ROWS

}  // namespace

RnnGradRowsF32 rnn_grad_rows_f32() { return grad_rows_for(current_gemm_kernel()); }
RnnGradRowsF32 rnn_grad_rows_f32_isa(GemmKernel isa) {
  return grad_rows_for(gemm_kernel_available(isa) ? isa : GemmKernel::Ref);
}

}  // namespace gf

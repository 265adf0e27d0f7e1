// Run-time choice of the float sigmoid / tanh span version (the GEMM's ISA), and the scalar
// fallback (see rnn_act.h). Baseline x86-64 code: it only calls the AVX files' functions after
// cpu_features says their ISA is there. Not here: any vector code.
#include "cpu/rnn_act.h"

#include <cmath>

#include "cpu/cpu_features.h"

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

}  // namespace gf

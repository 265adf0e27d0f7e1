// Run-time choice of the float sigmoid / tanh span version, and the scalar fallback (see
// rnn_act.h). Baseline x86-64 code: it only calls the AVX files' functions after
// cpu_features says their ISA is there. Not here: any vector code.
#include "cpu/rnn_act.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "cpu/cpu_features.h"

namespace gf {
namespace {

void sigmoid_scalar(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
}

void tanh_scalar(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

RnnActIsa choose_isa() {
  RnnActIsa best = rnn_act_isa_available(RnnActIsa::Avx512) ? RnnActIsa::Avx512
                   : rnn_act_isa_available(RnnActIsa::Avx2) ? RnnActIsa::Avx2
                                                            : RnnActIsa::Scalar;
  // GRADFORGE_GEMM_KERNEL names the ISA for all the CPU kernels; an unknown or unavailable
  // name falls back to the best (cpu_features.cc warns about it for the GEMM).
  if (const char* env = std::getenv("GRADFORGE_GEMM_KERNEL")) {
    if (std::strcmp(env, "ref") == 0) return RnnActIsa::Scalar;
    if (std::strcmp(env, "avx2") == 0 && rnn_act_isa_available(RnnActIsa::Avx2))
      return RnnActIsa::Avx2;
  }
  return best;
}

using SpanFn = void (*)(const float*, float*, int64_t);

struct Table {
  SpanFn sigmoid, tanh;
};

Table table_for(RnnActIsa isa) {
  switch (isa) {
    case RnnActIsa::Avx512: return {rnn_act_avx512_sigmoid_f32, rnn_act_avx512_tanh_f32};
    case RnnActIsa::Avx2: return {rnn_act_avx2_sigmoid_f32, rnn_act_avx2_tanh_f32};
    case RnnActIsa::Scalar: break;
  }
  return {sigmoid_scalar, tanh_scalar};
}

const Table& table() {
  static const Table t = table_for(rnn_act_isa());
  return t;
}

}  // namespace

RnnActIsa rnn_act_isa() {
  static const RnnActIsa isa = choose_isa();
  return isa;
}

const char* rnn_act_isa_name(RnnActIsa isa) {
  switch (isa) {
    case RnnActIsa::Avx512: return "avx512";
    case RnnActIsa::Avx2: return "avx2";
    case RnnActIsa::Scalar: return "scalar";
  }
  return "scalar";
}

bool rnn_act_isa_available(RnnActIsa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case RnnActIsa::Avx512: return f.avx512f && f.avx512vl && f.avx2 && f.fma;
    case RnnActIsa::Avx2: return f.avx2 && f.fma;
    case RnnActIsa::Scalar: return true;
  }
  return false;
}

void sigmoid_span_f32(const float* x, float* y, int64_t n) { table().sigmoid(x, y, n); }
void tanh_span_f32(const float* x, float* y, int64_t n) { table().tanh(x, y, n); }

void sigmoid_span_f32_isa(RnnActIsa isa, const float* x, float* y, int64_t n) {
  if (!rnn_act_isa_available(isa)) isa = RnnActIsa::Scalar;
  table_for(isa).sigmoid(x, y, n);
}

void tanh_span_f32_isa(RnnActIsa isa, const float* x, float* y, int64_t n) {
  if (!rnn_act_isa_available(isa)) isa = RnnActIsa::Scalar;
  table_for(isa).tanh(x, y, n);
}

}  // namespace gf

// addon.cc's exports on device storage (contract in binding/device_math.h).
#include "binding/device_math.h"

#include <string>

#include "binding/device_storage.h"
#include "cuda/buffer.h"
#include "cuda/elementwise.h"
#include "cuda/embedding.h"
#include "cuda/gemm.h"
#include "cuda/optim.h"
#include "cuda/permute.h"
#include "cuda/reduce.h"
#include "cuda/softmax.h"

namespace gf {
namespace binding {
namespace device {

bool float32_only(const Call& c, std::initializer_list<const ArrayView*> arrays) {
  for (const ArrayView* a : arrays)
    if (a->data != nullptr && !a->bytes && a->type == DType::F64)
      return c.type_error(c.arg(a->name) + " is float64 device storage; the CUDA kernels compute in " +
                          "float32 (keep float64 tensors on the CPU)");
  return true;
}

Napi::Value gemm(const Call& c, bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                 const ArrayView& A, int64_t lda, const ArrayView& B, int64_t ldb, double beta,
                 const ArrayView& C, int64_t ldc, const ArrayView& bias, GemmActivation act) {
  if (!float32_only(c, {&A, &B, &C, &bias})) return c.undef();
  GemmEpilogue<float> epi;
  epi.bias = in(bias);
  epi.act = act;
  return done(c, cuda::gemm(ta, tb, M, N, K, static_cast<float>(alpha), in(A), lda, in(B), ldb,
                                static_cast<float>(beta), out_of(C), ldc, epi, binding_stream()));
}

Napi::Value unary(const Call& c, UnaryOp op, const ArrayView& x, const ArrayView& out, double alpha,
                  double beta) {
  if (!float32_only(c, {&x, &out})) return c.undef();
  if (x.length == 0) return c.undef();
  return done(c, cuda::unary_forward(op, in(x), out_of(out), x.length, static_cast<float>(alpha),
                                         static_cast<float>(beta), binding_stream()));
}

Napi::Value unary_backward(const Call& c, UnaryOp op, const ArrayView& x, const ArrayView& y,
                           const ArrayView& dy, const ArrayView& dx, double alpha, double beta) {
  if (!float32_only(c, {&x, &y, &dy, &dx})) return c.undef();
  if (x.length == 0) return c.undef();
  return done(c, cuda::unary_backward(op, in(x), in(y), in(dy), out_of(dx), x.length,
                                          static_cast<float>(alpha), static_cast<float>(beta),
                                          binding_stream()));
}

Napi::Value binary(const Call& c, BinaryOp op, const ArrayView& a, const Shape& as, const ArrayView& b,
                   const Shape& bs, const ArrayView& out, const Shape& os) {
  if (!float32_only(c, {&a, &b, &out})) return c.undef();
  return done(c, cuda::binary_forward(op, in(a), as.dims, as.rank, in(b), bs.dims, bs.rank,
                                          out_of(out), os.dims, os.rank, binding_stream()));
}

Napi::Value reduce(const Call& c, ReduceOp op, const ArrayView& x, int64_t outer, int64_t n,
                   int64_t inner, const ArrayView& out) {
  if (!float32_only(c, {&x, &out})) return c.undef();
  return done(c, cuda::reduce(op, in(x), outer, n, inner, out_of(out), binding_stream()));
}

Napi::Value arg_reduce(const Call& c, ArgReduceOp op, const ArrayView& x, int64_t outer, int64_t n,
                       int64_t inner, const ArrayView& out) {
  if (!float32_only(c, {&x})) return c.undef();
  return done(c, cuda::arg_reduce(op, in(x), outer, n, inner, out.as<int32_t>(), binding_stream()));
}

Napi::Value softmax(const Call& c, const ArrayView& x, int64_t rows, int64_t cols, const ArrayView& out,
                    bool log) {
  if (!float32_only(c, {&x, &out})) return c.undef();
  return done(c, cuda::softmax_forward(in(x), rows, cols, out_of(out), log, binding_stream()));
}

Napi::Value softmax_backward(const Call& c, const ArrayView& y, const ArrayView& dy, int64_t rows,
                             int64_t cols, const ArrayView& dx, bool log) {
  if (!float32_only(c, {&y, &dy, &dx})) return c.undef();
  // Composed from the tested elementwise and reduction kernels (a fused row kernel would save
  // three launches and two temporaries); dx may be y or dy, since it is written last, by an
  // elementwise op that reads only its own elements.
  //   softmax:    dx = y * (dy - sum_row(dy * y))
  //   logSoftmax: dx = dy - exp(y) * sum_row(dy)
  cudaStream_t st = binding_stream();
  const int64_t n = rows * cols;
  cuda::DeviceBuffer tmp, sums;
  cuda::Status s = tmp.allocate(static_cast<std::size_t>(n) * sizeof(float), st);
  if (s.ok()) s = sums.allocate(static_cast<std::size_t>(rows) * sizeof(float), st);
  if (!s.ok()) return done(c, s);
  const int64_t full[2] = {rows, cols}, per_row[2] = {rows, 1};
  float* t = tmp.as<float>();
  float* sum = sums.as<float>();
  cudaError_t e;
  if (!log) {
    e = cuda::binary_forward(BinaryOp::Mul, in(dy), full, 2, in(y), full, 2, t, full, 2, st);
    if (e == cudaSuccess) e = cuda::reduce(ReduceOp::Sum, t, rows, cols, 1, sum, st);
    if (e == cudaSuccess) e = cuda::binary_forward(BinaryOp::Sub, in(dy), full, 2, sum, per_row, 2, t, full, 2, st);
    if (e == cudaSuccess) e = cuda::binary_forward(BinaryOp::Mul, in(y), full, 2, t, full, 2, out_of(dx), full, 2, st);
  } else {
    e = cuda::reduce(ReduceOp::Sum, in(dy), rows, cols, 1, sum, st);
    if (e == cudaSuccess) e = cuda::unary_forward(UnaryOp::Exp, in(y), t, n, st);
    if (e == cudaSuccess) e = cuda::binary_forward(BinaryOp::Mul, t, full, 2, sum, per_row, 2, t, full, 2, st);
    if (e == cudaSuccess) e = cuda::binary_forward(BinaryOp::Sub, in(dy), full, 2, t, full, 2, out_of(dx), full, 2, st);
  }
  return done(c, e);
}

Napi::Value permute(const Call& c, const ArrayView& x, const Shape& shape, const int* perm,
                    const ArrayView& out) {
  if (!float32_only(c, {&x, &out})) return c.undef();
  return done(c, cuda::permute(x.data, shape.dims, perm, shape.rank, 4, out.data, binding_stream()));
}

Napi::Value copy_box(const Call& c, const ArrayView& src, const Shape& ss, const Shape& s0,
                     const ArrayView& dst, const Shape& ds, const Shape& d0, const Shape& size,
                     const uint64_t* fill_bits) {
  if (!float32_only(c, {&src, &dst})) return c.undef();
  const uint32_t word = fill_bits == nullptr ? 0 : static_cast<uint32_t>(*fill_bits);
  return done(c, cuda::copy_box(src.data, ss.dims, s0.dims, dst.data, ds.dims, d0.dims, size.dims, size.rank, 4,
                                fill_bits == nullptr ? nullptr : &word, binding_stream()));
}

// The embedding kernels move float bits: an int32 table gathers through them unchanged.
Napi::Value gather_rows(const Call& c, const ArrayView& x, int64_t rows, int64_t row_len,
                        const ArrayView& ids, const ArrayView& out) {
  if (!float32_only(c, {&x, &out})) return c.undef();
  return done(c, cuda::embedding_forward(static_cast<const float*>(x.data), rows, row_len, index_in(ids),
                                         ids.length, static_cast<float*>(out.data), nullptr, binding_stream()));
}

Napi::Value scatter_add_rows(const Call& c, const ArrayView& g, const ArrayView& ids, int64_t rows,
                             int64_t row_len, const ArrayView& out) {
  if (!float32_only(c, {&g, &out})) return c.undef();
  return done(c, cuda::embedding_backward(in(g), index_in(ids), ids.length, rows, row_len, out_of(out), true,
                                          nullptr, binding_stream()));
}

Napi::Value sgd_step(const Call& c, const ArrayView& p, const ArrayView& g, const ArrayView& v, double lr,
                     double momentum, bool nesterov) {
  if (!float32_only(c, {&p, &g, &v})) return c.undef();
  if (p.length == 0) return c.undef();
  return done(c, cuda::sgd_step(out_of(p), in(g), out_of(v), p.length, lr, momentum, nesterov, binding_stream()));
}

Napi::Value adam_step(const Call& c, const ArrayView& p, const ArrayView& g, const ArrayView& m,
                      const ArrayView& v, double lr, double beta1, double beta2, double epsilon,
                      int64_t step) {
  if (!float32_only(c, {&p, &g, &m, &v})) return c.undef();
  if (p.length == 0) return c.undef();
  return done(c, cuda::adam_step(out_of(p), in(g), out_of(m), out_of(v), p.length, lr, beta1, beta2,
                                     epsilon, static_cast<double>(step), binding_stream()));
}

Napi::Value rmsprop_step(const Call& c, const ArrayView& p, const ArrayView& g, const ArrayView& ms,
                         double lr, double rho, double epsilon) {
  if (!float32_only(c, {&p, &g, &ms})) return c.undef();
  if (p.length == 0) return c.undef();
  return done(c, cuda::rmsprop_step(out_of(p), in(g), out_of(ms), p.length, lr, rho, epsilon, binding_stream()));
}

Napi::Value adagrad_step(const Call& c, const ArrayView& p, const ArrayView& g, const ArrayView& acc,
                         double lr, double epsilon) {
  if (!float32_only(c, {&p, &g, &acc})) return c.undef();
  if (p.length == 0) return c.undef();
  return done(c, cuda::adagrad_step(out_of(p), in(g), out_of(acc), p.length, lr, epsilon, binding_stream()));
}

}  // namespace device
}  // namespace binding
}  // namespace gf

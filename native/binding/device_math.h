// The CUDA side of addon.cc's exports (gemm, elementwise, reductions, softmax, permute, box
// copies, row gather and scatter-add, the optimizer steps), built only with GF_HAVE_CUDA. Each export checks its arguments exactly as
// for CPU arrays, then, when they are device storage (GF_ON_DEVICE in args.h), calls the one
// of these with the checked views: float32 only (the CUDA kernels compute in float32; a
// float64 device array is a TypeError), queued on the binding's stream, a CUDA error thrown
// as an Error with code 'GF_CUDA_ERROR'. It is not: checking (done before) or a plan step.
#pragma once
#ifndef GF_HAVE_CUDA
#error "binding/device_math.h is for the CUDA build (GF_HAVE_CUDA)"
#endif
#include <napi.h>

#include <initializer_list>

#include "binding/args.h"
#include "binding/device_storage.h"
#include "cpu/elementwise.h"
#include "cpu/gemm.h"
#include "cpu/reduce.h"

namespace gf {
namespace binding {
namespace device {

// A present array's device pointer as the launchers take it; null for an absent one.
inline const float* in(const ArrayView& a) { return a.data == nullptr ? nullptr : a.as<const float>(); }
inline float* out_of(const ArrayView& a) { return a.data == nullptr ? nullptr : a.as<float>(); }
inline const int32_t* index_in(const ArrayView& a) { return a.data == nullptr ? nullptr : a.as<const int32_t>(); }
inline int32_t* index_out(const ArrayView& a) { return a.data == nullptr ? nullptr : a.as<int32_t>(); }
// The export's result for a launcher's error: undefined, or the GF_CUDA_ERROR thrown.
inline Napi::Value done(const Call& c, cudaError_t e) { return cuda_result(c.env(), c.fn(), e); }
inline Napi::Value done(const Call& c, const cuda::Status& s) { return cuda_result(c.env(), c.fn(), s); }

// TypeError unless every present array is float32 (device kernels have no float64).
bool float32_only(const Call& c, std::initializer_list<const ArrayView*> arrays);

Napi::Value gemm(const Call& c, bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                 const ArrayView& A, int64_t lda, const ArrayView& B, int64_t ldb, double beta,
                 const ArrayView& C, int64_t ldc, const ArrayView& bias, GemmActivation act);
Napi::Value unary(const Call& c, UnaryOp op, const ArrayView& x, const ArrayView& out, double alpha,
                  double beta);
Napi::Value unary_backward(const Call& c, UnaryOp op, const ArrayView& x, const ArrayView& y,
                           const ArrayView& dy, const ArrayView& dx, double alpha, double beta);
Napi::Value binary(const Call& c, BinaryOp op, const ArrayView& a, const Shape& as, const ArrayView& b,
                   const Shape& bs, const ArrayView& out, const Shape& os);
Napi::Value reduce(const Call& c, ReduceOp op, const ArrayView& x, int64_t outer, int64_t n,
                   int64_t inner, const ArrayView& out);
Napi::Value arg_reduce(const Call& c, ArgReduceOp op, const ArrayView& x, int64_t outer, int64_t n,
                       int64_t inner, const ArrayView& out);
Napi::Value softmax(const Call& c, const ArrayView& x, int64_t rows, int64_t cols, const ArrayView& out,
                    bool log);
Napi::Value softmax_backward(const Call& c, const ArrayView& y, const ArrayView& dy, int64_t rows,
                             int64_t cols, const ArrayView& dx, bool log);
Napi::Value permute(const Call& c, const ArrayView& x, const Shape& shape, const int* perm,
                    const ArrayView& out);
// fill_bits: null, or the 32-bit word dst holds outside the box.
Napi::Value copy_box(const Call& c, const ArrayView& src, const Shape& ss, const Shape& s0,
                     const ArrayView& dst, const Shape& ds, const Shape& d0, const Shape& size,
                     const uint64_t* fill_bits);
// The ids are device storage: they are not range-checked (an out-of-range id gives a row of
// zeros in gather_rows and adds nothing in scatter_add_rows; lib checks ids before upload).
// scatter_add_rows adds with atomics: repeated ids sum in a varying order (low bits vary).
Napi::Value gather_rows(const Call& c, const ArrayView& x, int64_t rows, int64_t row_len,
                        const ArrayView& ids, const ArrayView& out);
Napi::Value scatter_add_rows(const Call& c, const ArrayView& g, const ArrayView& ids, int64_t rows,
                             int64_t row_len, const ArrayView& out);
Napi::Value sgd_step(const Call& c, const ArrayView& p, const ArrayView& g, const ArrayView& v, double lr,
                     double momentum, bool nesterov);
Napi::Value adam_step(const Call& c, const ArrayView& p, const ArrayView& g, const ArrayView& m,
                      const ArrayView& v, double lr, double beta1, double beta2, double epsilon,
                      int64_t step);
Napi::Value rmsprop_step(const Call& c, const ArrayView& p, const ArrayView& g, const ArrayView& ms,
                         double lr, double rho, double epsilon);
Napi::Value adagrad_step(const Call& c, const ArrayView& p, const ArrayView& g, const ArrayView& acc,
                         double lr, double epsilon);

}  // namespace device
}  // namespace binding
}  // namespace gf

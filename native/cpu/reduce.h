// Reductions over the middle axis of x viewed as (outer, n, inner), and arg-reductions.
// It is: sum/mean/max/min and argmax/argmin kernels, threaded for large inputs. It is not:
// axis bookkeeping (lib maps any axis set onto (outer, n, inner)) or validation (binding).
#pragma once
#include <cstdint>

namespace gf {

enum class ReduceOp { Sum, Mean, Max, Min };
enum class ArgReduceOp { ArgMax, ArgMin };

bool reduce_op_from_name(const char* name, ReduceOp* op);
bool arg_reduce_op_from_name(const char* name, ArgReduceOp* op);

// out[o*inner + i] = op_k x[(o*n + k)*inner + i].  n == 0 gives 0 (sum), NaN (mean),
// -Inf (max), +Inf (min). max/min propagate NaN. float sums accumulate in double.
template <typename T>
void reduce(ReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner, T* out);

// Index of the max/min along the middle axis, the first one on ties; a NaN counts as the
// extreme (the first NaN wins), as NumPy does. Requires n >= 1.
template <typename T>
void arg_reduce(ArgReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner,
                int32_t* out);

extern template void reduce<float>(ReduceOp, const float*, int64_t, int64_t, int64_t, float*);
extern template void reduce<double>(ReduceOp, const double*, int64_t, int64_t, int64_t, double*);
extern template void arg_reduce<float>(ArgReduceOp, const float*, int64_t, int64_t, int64_t,
                                       int32_t*);
extern template void arg_reduce<double>(ArgReduceOp, const double*, int64_t, int64_t, int64_t,
                                        int32_t*);

}  // namespace gf

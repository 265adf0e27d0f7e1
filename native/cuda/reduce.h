// Reductions over the middle axis of x viewed as (outer, n, inner) on a CUDA device:
// sum/mean/max/min, and argmax/argmin.
// It is: host-callable launchers over device pointers, asynchronous on `stream`, float input,
// with the CPU kernels' semantics (native/cpu/reduce.cc): sums accumulate in double (then
// round once to float); max/min propagate NaN; n == 0 gives 0 (sum), NaN (mean), -Inf (max),
// +Inf (min); argmax/argmin return the first index of the extreme, and a NaN counts as the
// extreme (the first NaN wins), as NumPy does. Results are deterministic: each thread folds a
// fixed strided slice of k and the partials combine in a fixed tree, whatever the launch.
// It is not: axis bookkeeping (lib maps any axis set onto (outer, n, inner)), validation, or a
// multi-block split of one row: one (outer, inner) position is reduced by at most one block,
// so a full reduction of one huge array runs on one SM (correct, not at full bandwidth).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "cpu/reduce.h"  // ReduceOp, ArgReduceOp

namespace gf {
namespace cuda {

// out[o*inner + i] = op over k of x[(o*n + k)*inner + i], for o < outer, i < inner.
// outer == 0 or inner == 0 does nothing; n == 0 fills out with the op's empty value.
cudaError_t reduce(ReduceOp op, const float* x, int64_t outer, int64_t n, int64_t inner, float* out,
                   cudaStream_t stream);

// out[o*inner + i] = the k of the max (min) of x[(o*n + k)*inner + i]: first on ties, first
// NaN if any. Needs n >= 1 and n < 2^31 (cudaErrorInvalidValue otherwise, nothing launched)
// unless outer * inner == 0 (nothing to do).
cudaError_t arg_reduce(ArgReduceOp op, const float* x, int64_t outer, int64_t n, int64_t inner,
                       int32_t* out, cudaStream_t stream);

}  // namespace cuda
}  // namespace gf

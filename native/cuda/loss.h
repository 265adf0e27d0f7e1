// Fused softmax cross-entropy on a CUDA device over logits x viewed as (rows, classes),
// row-major: the per-row loss and its gradient, for integer labels (sparse) and for one-hot or
// probability targets (categorical), without forming the softmax in memory.
// It is: loss[r] = logsumexp(x[r]) * T[r] - sum_j t[r,j] x[r,j] with T[r] = sum_j t[r,j]
// (sparse: t is the one-hot of labels[r], T = 1), computed stably (row max subtracted); the
// gradient dx[r,j] = g[r] * (softmax(x[r])_j * T[r] - t[r,j]) for an upstream per-row
// gradient g (null: 1 for every row), which is what lib's -sum(t * logSoftmax(x)) differentiates
// to. NaN/Inf as the CPU softmax: a row holding NaN or +Inf, or only -Inf, gives a NaN loss
// and a NaN gradient row; a -Inf logit has probability exactly 0, so it costs nothing where
// its target is 0 (the fused form skips 0 * log 0, unlike the unfused composition's NaN) and
// gives +Inf loss where its target is > 0. A sparse label outside [0, classes) gives a NaN
// loss and gradient row (lib validates labels before; this keeps the kernel total).
// Asynchronous on `stream`; dx may equal x (or targets). It is not: the batch mean, sample
// weights or masks (lib applies those to the per-row loss / to g), probability inputs (lib
// clips and logs those itself), or validation of pointers and sizes.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace gf {
namespace cuda {

// loss[r] for labels (rows) of int32 class indices.
cudaError_t sparse_softmax_xent_forward(const float* x, const int32_t* labels, int64_t rows,
                                        int64_t classes, float* loss, cudaStream_t stream);
// dx (rows, classes) = g[r] * (softmax(x[r]) - onehot(labels[r])); g null means 1.
cudaError_t sparse_softmax_xent_backward(const float* x, const int32_t* labels, const float* g,
                                         int64_t rows, int64_t classes, float* dx,
                                         cudaStream_t stream);
// loss[r] for targets t (rows, classes): one-hot rows or probabilities (any nonnegative rows).
cudaError_t softmax_xent_forward(const float* x, const float* t, int64_t rows, int64_t classes,
                                 float* loss, cudaStream_t stream);
// dx = g[r] * (softmax(x[r]) * sum_j t[r,j] - t[r]); g null means 1.
cudaError_t softmax_xent_backward(const float* x, const float* t, const float* g, int64_t rows,
                                  int64_t classes, float* dx, cudaStream_t stream);

}  // namespace cuda
}  // namespace gf

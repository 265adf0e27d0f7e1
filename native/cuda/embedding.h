// Embedding lookup on a CUDA device: a gather of rows of a (vocab, dim) float table by int32
// ids, and its backward, a scatter-add of the output gradient into the table's gradient.
// It is: out[i, :] = table[ids[i], :] for n ids (any id shape, flattened); an id outside
// [0, vocab) gives a row of zeros (as TensorFlow's GPU gather) and is counted in *err, which
// the launcher zeroes first and the caller reads back after the stream (nonzero: report it
// as lib/nn/embedding.ts does), never a fault. The backward adds dy[i, :] into dtable[ids[i], :]
// with atomicAdd: the sum is exact up to float rounding, but the ORDER of the adds for an id
// that repeats varies from run to run, so the low bits do (not bitwise deterministic);
// out-of-range ids are skipped and counted the same way. Asynchronous on `stream`.
// It is not: maskZero handling (lib), a deterministic (sorted) backward, or validation of
// pointers and sizes.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace gf {
namespace cuda {

// out (n, dim) = table[ids]; err (nullable, one int32 on the device) = how many ids were out
// of range. vocab, dim >= 0; n == 0 or dim == 0 zeroes *err and does nothing else.
cudaError_t embedding_forward(const float* table, int64_t vocab, int64_t dim, const int32_t* ids,
                              int64_t n, float* out, int32_t* err, cudaStream_t stream);

// dtable (vocab, dim) += scatter of dy (n, dim) by ids; when !accumulate dtable is zeroed
// first (in stream order). err as for the forward.
cudaError_t embedding_backward(const float* dy, const int32_t* ids, int64_t n, int64_t vocab,
                               int64_t dim, float* dtable, bool accumulate, int32_t* err,
                               cudaStream_t stream);

}  // namespace cuda
}  // namespace gf

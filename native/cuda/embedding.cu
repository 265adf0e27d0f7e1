// Embedding gather / scatter-add kernels (contract in cuda/embedding.h): one thread per
// output element (i, d) in a grid-stride loop over n * dim, so consecutive threads read and
// write consecutive d of one row whatever dim is (coalesced for any dim, no per-row block
// shape to tune); the flat index is split by one 64-bit division. The thread at d == 0 counts
// a bad id, once per id. The backward's atomicAdd is the float red.add on the device; a
// frequent id (padding, say) serialises its adds, which is the price of needing no sort.
// It is not: vectorised (float4 rows) or deterministic in the backward's add order.
#include "cuda/embedding.h"

#include "cuda/check.h"
#include "cuda/launch.h"

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace embedding_impl {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 8192;

__global__ void gather_kernel(const float* table, int64_t vocab, int64_t dim, const int32_t* ids, int64_t n,
                              float* out, int32_t* err) {
  const int64_t total = n * dim;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = e / dim, d = e - i * dim;
    const int64_t id = ids[i];
    const bool ok = id >= 0 && id < vocab;
    out[e] = ok ? table[id * dim + d] : 0.0f;
    if (!ok && d == 0 && err) atomicAdd(err, 1);
  }
}

__global__ void scatter_add_kernel(const float* dy, const int32_t* ids, int64_t n, int64_t vocab, int64_t dim,
                                   float* dtable, int32_t* err) {
  const int64_t total = n * dim;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = e / dim, d = e - i * dim;
    const int64_t id = ids[i];
    if (id >= 0 && id < vocab) atomicAdd(dtable + id * dim + d, dy[e]);
    else if (d == 0 && err) atomicAdd(err, 1);
  }
}

}  // namespace
}  // namespace embedding_impl

cudaError_t embedding_forward(const float* table, int64_t vocab, int64_t dim, const int32_t* ids,
                              int64_t n, float* out, int32_t* err, cudaStream_t stream) {
  using namespace embedding_impl;
  if (vocab < 0 || dim < 0 || n < 0) return cudaErrorInvalidValue;
  if (err) GF_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(err, 0, sizeof(int32_t), stream));
  return launch_grid(gather_kernel, n * dim, kThreads, kMaxBlocks, stream, table, vocab, dim, ids, n, out, err);
}

cudaError_t embedding_backward(const float* dy, const int32_t* ids, int64_t n, int64_t vocab,
                               int64_t dim, float* dtable, bool accumulate, int32_t* err,
                               cudaStream_t stream) {
  using namespace embedding_impl;
  if (vocab < 0 || dim < 0 || n < 0) return cudaErrorInvalidValue;
  if (err) GF_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(err, 0, sizeof(int32_t), stream));
  if (!accumulate && vocab * dim > 0)
    GF_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(dtable, 0, static_cast<size_t>(vocab * dim) * sizeof(float), stream));
  return launch_grid(scatter_add_kernel, n * dim, kThreads, kMaxBlocks, stream, dy, ids, n, vocab, dim, dtable,
                     err);
}

}  // namespace cuda
}  // namespace gf

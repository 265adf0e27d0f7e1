// Axis permutation (generalised transpose) of a dense row-major array on a CUDA device, the
// twin of native/cpu/permute.h: out.shape[i] = shape[perm[i]], out[idx] = x[idx permuted back].
// It is: a host-callable launcher over device pointers, asynchronous on `stream`, copying
// 4-byte words (Float32 and Int32 alike; the bits are moved, never converted, so NaN payloads
// and -0 survive). The plan is the CPU's: size-1 axes dropped, output axes adjacent in x
// merged; a gather when x's innermost axis stays innermost, 32x32 shared-memory tiles when it
// moves. It is not: a view mechanism (lib decides when a copy is needed), in place (out and x
// must not overlap), other element sizes, or validation of sizes and pointers (the binding
// checks them); it does refuse a bad rank or perm itself.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace gf {
namespace cuda {

constexpr int kPermuteMaxRank = 8;

// x, out: device arrays of prod(shape) elements of elem_bytes bytes each; shape[rank],
// perm[rank] on the host (either may be null when rank == 0). rank 0 copies one element.
// rank outside [0, 8], a perm that is not a permutation of 0..rank-1, a negative dim,
// elem_bytes other than 4, or out == x (when not empty) return cudaErrorInvalidValue without
// launching anything; an empty array (a dim of 0) launches nothing and returns cudaSuccess.
cudaError_t permute(const void* x, const int64_t* shape, const int* perm, int rank, int elem_bytes,
                    void* out, cudaStream_t stream);

// dst[dst_start + i] = src[src_start + i] for every index i of the box `size` (slice, pad,
// concat), the twin of cpu/permute.h's copy_box: src of shape src_shape and dst of dst_shape
// are device arrays of elem_bytes-byte elements (4 only), the shapes, starts and size on the
// host; the box must lie inside both (not checked here: the binding does) and src and dst
// must not overlap. The rest of dst is untouched, or, when fill_word (host) is not null, set
// to that word first. rank outside [0, 8] or elem_bytes other than 4 return
// cudaErrorInvalidValue; an empty box launches no copy.
cudaError_t copy_box(const void* src, const int64_t* src_shape, const int64_t* src_start, void* dst,
                     const int64_t* dst_shape, const int64_t* dst_start, const int64_t* size,
                     int rank, int elem_bytes, const uint32_t* fill_word, cudaStream_t stream);

}  // namespace cuda
}  // namespace gf

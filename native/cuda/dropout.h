// Dropout on a CUDA device with a counter-based generator: Philox4x32-10 (Salmon et al.,
// "Parallel random numbers: as easy as 1, 2, 3", SC'11), written out here, keyed by a 64-bit
// seed, with a 64-bit offset in the counter's upper half. Element i draws word i % 4 of
// Philox(counter = (i / 4, offset), key = seed), so a launch's bits depend only on (seed,
// offset, i): reproducible, and independent of the grid, the block size and the device.
// It is: inverted dropout as Keras / lib/nn/dropout.ts: element i is kept when
// u_i = (word >> 8) * 2^-24 < 1 - rate, kept values are scaled by 1 / (1 - rate) (formed in
// double, rounded to float, as lib's mask array holds it) and dropped ones are multiplied by
// 0 (so a dropped NaN or Inf is still NaN, as lib's mul(x, mask) gives); rate 0 keeps every
// element exactly. The backward is dx = dy * mask. Asynchronous on `stream`.
// It is not: lib's JS generator (the masks differ from the CPU backend's, as they differ
// between any two generators), noise_shape broadcasting (lib expands the mask), or offset
// bookkeeping: a caller that wants a new mask passes a new offset (each launch uses counters
// (0 .. ceil(n / 4) - 1, offset), so offsets that differ give independent streams).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace gf {
namespace cuda {

// out[i] = word i % 4 of Philox4x32-10(counter = (lo(i/4), hi(i/4), lo(offset), hi(offset)),
// key = (lo(seed), hi(seed))), for 0 <= i < n: the raw bits the masks are made from.
cudaError_t philox_fill(uint32_t* out, int64_t n, uint64_t seed, uint64_t offset, cudaStream_t stream);

// y[i] = x[i] * m[i], m[i] = kept ? 1 / (1 - rate) : 0; mask (nullable) receives m. y may
// equal x. rate outside [0, 1) returns cudaErrorInvalidValue without launching.
cudaError_t dropout_forward(const float* x, float* y, float* mask, int64_t n, float rate, uint64_t seed,
                            uint64_t offset, cudaStream_t stream);

// dx[i] = dy[i] * mask[i] (the forward's mask). dx may equal dy.
cudaError_t dropout_backward(const float* dy, const float* mask, float* dx, int64_t n, cudaStream_t stream);

}  // namespace cuda
}  // namespace gf

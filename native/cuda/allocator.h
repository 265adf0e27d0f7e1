// Device memory for tensors and temporaries: a stream-ordered caching allocator over
// cudaMallocAsync / cudaFreeAsync.
// It is: one memory pool per device (created on first use, its release threshold set to
// "keep everything", so memory freed on a stream is reused by later allocations on it without
// going back to the driver; other streams reuse it once the free is ordered before them),
// returning every failure as a Status with a message (out of memory names the size and the
// device). Thread-safe. It is not: a policy (lib/memory decides when to free; trim() hands
// cached memory back), host or pinned memory, or usable on devices without memory-pool
// support (alloc says so).
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "cuda/check.h"

namespace gf {
namespace cuda {

// *ptr = bytes of device memory on the current device (cudaSetDevice), usable in stream
// order on `stream` from now on. bytes == 0 gives *ptr = nullptr and ok. On failure *ptr is
// nullptr and the Status says why ("cudaMallocFromPoolAsync(<n> bytes, device <d>) failed:
// out of memory ...").
Status alloc(std::size_t bytes, cudaStream_t stream, void** ptr);

// Returns ptr (from alloc, any device) to its pool, in stream order on `stream`: work queued
// on `stream` before this call may still use it. nullptr is ok and does nothing.
Status free(void* ptr, cudaStream_t stream);

// Releases cached, unused memory of the current device's pool to the driver, keeping at most
// keep_bytes reserved (cudaMemPoolTrimTo). Memory still allocated is never released.
Status trim(std::size_t keep_bytes);

struct PoolStats {
  uint64_t reserved = 0;  // bytes the pool holds from the driver (in use + cached)
  uint64_t used = 0;      // bytes handed out and not yet freed
};
// The current device's pool figures (zeros if alloc has not created it yet).
Status pool_stats(PoolStats* stats);

}  // namespace cuda
}  // namespace gf

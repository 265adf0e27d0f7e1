// The stream-ordered caching allocator (contract in cuda/allocator.h).
// It is: a table of one cudaMemPool_t per device, created lazily under a mutex with the
// device's own location and an unlimited release threshold (the pool caches instead of
// releasing at every synchronisation), and thin checked wrappers over the async calls.
// Why a pool of our own rather than the device's default pool: its settings (the threshold)
// would leak into every other CUDA user in the process (another addon, a CUDA-enabled
// onnxruntime). Pools are never destroyed: they live until the process ends, when the driver
// reclaims them (destroying them from a static destructor could run after the runtime's own
// teardown). It is not: host code's only copy of sizes (the caller keeps them).
#include "cuda/allocator.h"

#include <mutex>
#include <string>
#include <vector>

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace allocator_impl {
namespace {

struct Pools {
  std::mutex mu;
  std::vector<cudaMemPool_t> by_device;  // nullptr: not created yet
};

Pools& pools() {
  static Pools p;  // never destroyed before exit handlers; holds only handles
  return p;
}

std::string on_device(const char* call, std::size_t bytes, int device) {
  return std::string(call) + "(" + std::to_string(bytes) + " bytes, device " + std::to_string(device) + ")";
}

// The pool of `device`, creating it on first use. *pool stays nullptr on failure.
Status pool_for(int device, bool create, cudaMemPool_t* pool) {
  *pool = nullptr;
  Pools& p = pools();
  std::lock_guard<std::mutex> lock(p.mu);
  if (device < 0) return Status{cudaErrorInvalidDevice, "device " + std::to_string(device) + " is not a device"};
  if (static_cast<std::size_t>(device) < p.by_device.size() && p.by_device[device]) {
    *pool = p.by_device[device];
    return ok_status();
  }
  if (!create) return ok_status();
  int supported = 0;
  GF_CUDA_RETURN_STATUS_IF_ERROR(cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device));
  if (!supported)
    return Status{cudaErrorNotSupported, "device " + std::to_string(device) +
                                             " does not support stream-ordered memory pools "
                                             "(cudaMallocAsync)"};
  cudaMemPoolProps props{};
  props.allocType = cudaMemAllocationTypePinned;
  props.handleTypes = cudaMemHandleTypeNone;
  props.location.type = cudaMemLocationTypeDevice;
  props.location.id = device;
  cudaMemPool_t created = nullptr;
  GF_CUDA_RETURN_STATUS_IF_ERROR(cudaMemPoolCreate(&created, &props));
  uint64_t keep_all = UINT64_MAX;
  const cudaError_t e = cudaMemPoolSetAttribute(created, cudaMemPoolAttrReleaseThreshold, &keep_all);
  if (e != cudaSuccess) {
    (void)cudaMemPoolDestroy(created);
    return make_status(e, "cudaMemPoolSetAttribute(cudaMemPoolAttrReleaseThreshold)");
  }
  if (p.by_device.size() <= static_cast<std::size_t>(device)) p.by_device.resize(device + 1, nullptr);
  p.by_device[device] = created;
  *pool = created;
  return ok_status();
}

}  // namespace
}  // namespace allocator_impl

Status alloc(std::size_t bytes, cudaStream_t stream, void** ptr) {
  using namespace allocator_impl;
  *ptr = nullptr;
  if (bytes == 0) return ok_status();
  int device = 0;
  GF_CUDA_RETURN_STATUS_IF_ERROR(cudaGetDevice(&device));
  cudaMemPool_t pool = nullptr;
  Status s = pool_for(device, true, &pool);
  if (!s.ok()) return s;
  void* p = nullptr;
  const cudaError_t e = cudaMallocFromPoolAsync(&p, bytes, pool, stream);
  if (e != cudaSuccess) {
    // Out of memory is not sticky: clear it so the next unrelated check does not see it.
    (void)cudaGetLastError();
    return make_status(e, on_device("cudaMallocFromPoolAsync", bytes, device).c_str());
  }
  *ptr = p;
  return ok_status();
}

Status free(void* ptr, cudaStream_t stream) {
  if (ptr == nullptr) return ok_status();
  const cudaError_t e = cudaFreeAsync(ptr, stream);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    return make_status(e, "cudaFreeAsync");
  }
  return ok_status();
}

Status trim(std::size_t keep_bytes) {
  using namespace allocator_impl;
  int device = 0;
  GF_CUDA_RETURN_STATUS_IF_ERROR(cudaGetDevice(&device));
  cudaMemPool_t pool = nullptr;
  Status s = pool_for(device, false, &pool);
  if (!s.ok() || pool == nullptr) return s;
  GF_CUDA_RETURN_STATUS_IF_ERROR(cudaMemPoolTrimTo(pool, keep_bytes));
  return ok_status();
}

Status pool_stats(PoolStats* stats) {
  using namespace allocator_impl;
  *stats = PoolStats{};
  int device = 0;
  GF_CUDA_RETURN_STATUS_IF_ERROR(cudaGetDevice(&device));
  cudaMemPool_t pool = nullptr;
  Status s = pool_for(device, false, &pool);
  if (!s.ok() || pool == nullptr) return s;
  uint64_t v = 0;
  GF_CUDA_RETURN_STATUS_IF_ERROR(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent, &v));
  stats->reserved = v;
  GF_CUDA_RETURN_STATUS_IF_ERROR(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemCurrent, &v));
  stats->used = v;
  return ok_status();
}

}  // namespace cuda
}  // namespace gf

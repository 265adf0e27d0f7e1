// Host definitions of the CUDA runtime calls that native/cuda and its tests make, for the
// emulated test binaries only (native/tests/test_cuda_emulated.cc, GF_CUDA_EMULATE): one
// emulated device, "device memory" is host memory, streams are tokens and every call is
// synchronous. Include it in exactly one translation unit, after cuda/emulate.h; that binary
// must not link cudart. It is not: an emulation of errors (every call succeeds unless told
// otherwise: an allocation over the emulated memory fails with cudaErrorMemoryAllocation).
#pragma once
#ifndef GF_CUDA_EMULATE
#error "cuda/emulate_runtime.h is only for the host emulation test (define GF_CUDA_EMULATE)"
#endif
#include <cuda_runtime_api.h>

#include <cstdlib>
#include <cstring>

namespace gf {
namespace emu {
inline int& multiprocessors() { static int n = 4; return n; }  // what cudaDevAttrMultiProcessorCount says
constexpr size_t kMemory = size_t(8) << 30;  // allocations above this fail, as out of memory
inline size_t& pool_used() { static size_t n = 0; return n; }
struct FakeHandle { int tag; };
inline FakeHandle& fake_pool() { static FakeHandle h{1}; return h; }
inline FakeHandle& fake_stream() { static FakeHandle h{2}; return h; }
}  // namespace emu
}  // namespace gf

extern "C" {

cudaError_t cudaGetDeviceCount(int* count) { *count = 1; return cudaSuccess; }
cudaError_t cudaGetDevice(int* device) { *device = 0; return cudaSuccess; }
cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : cudaErrorInvalidDevice; }
cudaError_t cudaDriverGetVersion(int* v) { *v = CUDART_VERSION; return cudaSuccess; }
cudaError_t cudaGetLastError(void) { return cudaSuccess; }
cudaError_t cudaPeekAtLastError(void) { return cudaSuccess; }
// The real runtime's names and texts for the errors the emulation gives; others are generic.
const char* cudaGetErrorName(cudaError_t e) {
  return e == cudaSuccess ? "cudaSuccess" : e == cudaErrorMemoryAllocation ? "cudaErrorMemoryAllocation"
         : e == cudaErrorInvalidValue ? "cudaErrorInvalidValue" : e == cudaErrorNotSupported ? "cudaErrorNotSupported"
         : "cudaError(emulated)";
}
const char* cudaGetErrorString(cudaError_t e) {
  return e == cudaSuccess ? "no error" : e == cudaErrorMemoryAllocation ? "out of memory"
         : e == cudaErrorInvalidValue ? "invalid argument" : e == cudaErrorNotSupported ? "operation not supported"
         : "emulated error";
}

cudaError_t cudaDeviceGetAttribute(int* value, enum cudaDeviceAttr attr, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  *value = attr == cudaDevAttrMultiProcessorCount ? gf::emu::multiprocessors()
           : attr == cudaDevAttrMemoryPoolsSupported ? 1 : 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp* p, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  std::memset(p, 0, sizeof *p);
  std::strncpy(p->name, "host emulation (GF_CUDA_EMULATE)", sizeof p->name - 1);
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = gf::emu::multiprocessors();
  p->totalGlobalMem = gf::emu::kMemory;
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, enum cudaMemcpyKind) {
  if (n) std::memmove(dst, src, n);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, enum cudaMemcpyKind k, cudaStream_t) {
  return cudaMemcpy(dst, src, n, k);
}
cudaError_t cudaMemset(void* p, int v, size_t n) {
  if (n) std::memset(p, v, n);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* p, int v, size_t n, cudaStream_t) { return cudaMemset(p, v, n); }

cudaError_t cudaStreamCreate(cudaStream_t* s) {
  *s = reinterpret_cast<cudaStream_t>(&gf::emu::fake_stream());
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }

cudaError_t cudaMemPoolCreate(cudaMemPool_t* pool, const struct cudaMemPoolProps*) {
  *pool = reinterpret_cast<cudaMemPool_t>(&gf::emu::fake_pool());
  return cudaSuccess;
}
cudaError_t cudaMemPoolDestroy(cudaMemPool_t) { return cudaSuccess; }
cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t, enum cudaMemPoolAttr, void*) { return cudaSuccess; }
cudaError_t cudaMemPoolGetAttribute(cudaMemPool_t, enum cudaMemPoolAttr, void* value) {
  *static_cast<uint64_t*>(value) = gf::emu::pool_used();
  return cudaSuccess;
}
cudaError_t cudaMemPoolTrimTo(cudaMemPool_t, size_t) { return cudaSuccess; }

// 256-byte aligned, like cudaMalloc; the size is kept in front for the accounting.
cudaError_t cudaMallocFromPoolAsync(void** ptr, size_t size, cudaMemPool_t, cudaStream_t) {
  *ptr = nullptr;
  if (size > gf::emu::kMemory) return cudaErrorMemoryAllocation;
  void* raw = std::aligned_alloc(256, 256 + ((size + 255) / 256) * 256);
  if (!raw) return cudaErrorMemoryAllocation;
  std::memcpy(raw, &size, sizeof size);
  gf::emu::pool_used() += size;
  *ptr = static_cast<char*>(raw) + 256;
  return cudaSuccess;
}
cudaError_t cudaFreeAsync(void* ptr, cudaStream_t) {
  if (!ptr) return cudaSuccess;
  char* raw = static_cast<char*>(ptr) - 256;
  size_t size;
  std::memcpy(&size, raw, sizeof size);
  gf::emu::pool_used() -= size;
  std::free(raw);
  return cudaSuccess;
}

}  // extern "C"

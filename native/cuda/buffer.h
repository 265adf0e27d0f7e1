// An owned device allocation from the caching allocator (cuda/allocator.h): freed, in stream
// order on the stream it was allocated on, when the owner is destroyed or reset.
// It is: a move-only RAII handle for C++ callers (tests, the bench, later the binding's device
// storage), no exceptions: allocate() and release() return a Status. It is not: typed, sized
// in elements, or synchronising (a destructor frees asynchronously; work already queued on the
// stream still sees the memory).
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <utility>

#include "cuda/allocator.h"

namespace gf {
namespace cuda {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { (void)release(); }  // a destructor cannot report: call release() to see it
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept { swap(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      (void)release();
      swap(o);
    }
    return *this;
  }

  // Frees what is held, then allocates `bytes` on the current device for use on `stream`.
  Status allocate(std::size_t bytes, cudaStream_t stream) {
    Status s = release();
    if (!s.ok()) return s;
    s = alloc(bytes, stream, &ptr_);
    if (s.ok()) {
      bytes_ = bytes;
      stream_ = stream;
    }
    return s;
  }

  // Frees (in stream order) and empties the handle.
  Status release() {
    void* p = ptr_;
    ptr_ = nullptr;
    bytes_ = 0;
    return free(p, stream_);
  }

  void* get() const { return ptr_; }
  template <typename T>
  T* as() const { return static_cast<T*>(ptr_); }
  std::size_t bytes() const { return bytes_; }
  cudaStream_t stream() const { return stream_; }

 private:
  void swap(DeviceBuffer& o) noexcept {
    std::swap(ptr_, o.ptr_);
    std::swap(bytes_, o.bytes_);
    std::swap(stream_, o.stream_);
  }
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
  cudaStream_t stream_ = nullptr;
};

}  // namespace cuda
}  // namespace gf

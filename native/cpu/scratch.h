// Per-thread reusable, 64-byte aligned scratch memory for kernels (GEMM packing panels, edge
// tiles). It is: a grow-only buffer, so steady-state calls allocate nothing. It is not: an
// allocator for tensors, and not shared between threads (each thread owns its instances).
#pragma once
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace gf {

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

class ScratchBuffer {
 public:
  // Returns at least `bytes` bytes, 64-byte aligned. Contents are unspecified; the pointer
  // stays valid until the next get() on this buffer that needs to grow.
  void* get(size_t bytes) {
    if (bytes > capacity_) {
      size_t want = (bytes + kAlign - 1) / kAlign * kAlign;  // aligned_alloc needs a multiple
      data_.reset(std::aligned_alloc(kAlign, want));
      if (!data_) throw std::bad_alloc();
      capacity_ = want;
    }
    return data_.get();
  }

 private:
  static constexpr size_t kAlign = 64;
  std::unique_ptr<void, AlignedFree> data_;
  size_t capacity_ = 0;
};

}  // namespace gf

// The stream-ordered caching allocator (native/cuda/allocator.cu), the device queries and the
// error text: allocations of many sizes are usable (written and read back) and 256-byte
// aligned; zero bytes gives nullptr; freed memory is cached (the pool's reserved bytes do not
// fall at a free) and reused; an impossible size fails with a message naming the call, the
// size and the device, leaves no sticky error (the next allocation works); trim() returns
// cached memory; device_info() rejects a bad index; error_message() names the error.
// No device: "SKIP: <reason>", exit 77 (and the skip path itself is what runs on such a
// machine: query_devices() must return a reason, never abort).
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cuda/allocator.h"
#include "cuda/buffer.h"
#include "cuda/device.h"
#include "cuda/testing.h"
#include "tests/test_util.h"

namespace allocator_test {

using namespace gf;
using namespace gf::test;
namespace ct = gf::cuda::testing;

int run(const char* name) {
  // Error text needs no device.
  const std::string m = cuda::error_message(cudaErrorMemoryAllocation, "cudaMallocAsync(8 bytes)");
  check(m.find("cudaMallocAsync(8 bytes) failed") == 0, "error_message names the call: " + m);
  check(cuda::make_status(cudaSuccess, "x").ok(), "make_status(cudaSuccess) is ok");
  if (!ct::device_or_skip(name)) return ct::kSkipExit;

  cudaStream_t stream = nullptr;
  if (!ct::ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return finish(name);

  const cuda::DeviceQuery q = cuda::query_devices();
  check(q.count > 0 && q.reason.empty(), "query_devices: a count and no reason");
  check(!cuda::device_info(-1).ok && !cuda::device_info(q.count).ok, "device_info rejects a bad index");
  const cuda::DeviceInfo d = cuda::device_info(0);
  check(d.ok && !d.name.empty() && d.major >= 1, "device_info(0): " + d.name);

  void* p = reinterpret_cast<void*>(1);
  check(cuda::alloc(0, stream, &p).ok() && p == nullptr, "alloc(0) gives nullptr");
  check(cuda::free(nullptr, stream).ok(), "free(nullptr) is ok");

  for (size_t bytes : {size_t(4), size_t(1000), size_t(1) << 20, (size_t(1) << 24) + 12}) {
    cuda::DeviceBuffer b;
    if (!ct::ok(b.allocate(bytes, stream), "allocate " + std::to_string(bytes))) continue;
    check((reinterpret_cast<uintptr_t>(b.get()) & 255u) == 0, "256-byte aligned: " + std::to_string(bytes));
    const size_t n = bytes / 4;
    std::vector<float> h(n);
    for (size_t i = 0; i < n; ++i) h[i] = float(i % 1000) * 0.5f;
    ct::ok(cudaMemcpyAsync(b.get(), h.data(), n * 4, cudaMemcpyHostToDevice, stream), "H2D");
    std::vector<float> back;
    if (ct::download(b.as<float>(), n, stream, &back))
      check_close(back.data(), h.data(), n, 0, 0, "round trip " + std::to_string(bytes));
  }

  // Cached: after a free (and a sync) the pool still holds the bytes, and reuses them.
  cuda::PoolStats before{}, after_free{}, after_trim{};
  {
    cuda::DeviceBuffer big;
    ct::ok(big.allocate(size_t(64) << 20, stream), "allocate 64 MiB");
    ct::ok(cuda::pool_stats(&before), "pool_stats");
    check(before.used >= (size_t(64) << 20) && before.reserved >= before.used, "pool_stats counts the allocation");
    ct::ok(big.release(), "release 64 MiB");
  }
  ct::ok(cudaStreamSynchronize(stream), "sync after free");
  ct::ok(cuda::pool_stats(&after_free), "pool_stats");
  check(after_free.reserved >= (size_t(64) << 20), "freed memory stays cached in the pool");
  {
    cuda::DeviceBuffer again;
    ct::ok(again.allocate(size_t(64) << 20, stream), "allocate 64 MiB again (from the cache)");
  }
  ct::ok(cudaStreamSynchronize(stream), "sync");
  ct::ok(cuda::trim(0), "trim(0)");
  ct::ok(cuda::pool_stats(&after_trim), "pool_stats");
  std::printf("%s: pool reserved %llu MiB in use, %llu MiB after free, %llu MiB after trim\n", name,
              (unsigned long long)(before.reserved >> 20), (unsigned long long)(after_free.reserved >> 20),
              (unsigned long long)(after_trim.reserved >> 20));

  // Out of memory: a message, no pointer, nothing sticky.
  void* huge = reinterpret_cast<void*>(1);
  const cuda::Status s = cuda::alloc(size_t(1) << 60, stream, &huge);
  check(!s.ok() && huge == nullptr, "an impossible allocation fails");
  check(s.message.find("cudaMallocFromPoolAsync(1152921504606846976 bytes, device 0) failed") == 0,
        "its message names the call, size and device: " + s.message);
  cuda::DeviceBuffer after;
  ct::ok(after.allocate(4096, stream), "the next allocation still works");
  check(cudaGetLastError() == cudaSuccess, "no error left behind");

  ct::ok(cudaStreamSynchronize(stream), "final cudaStreamSynchronize");
  after.release();
  ct::ok(cudaStreamSynchronize(stream), "sync");
  ct::ok(cudaStreamDestroy(stream), "cudaStreamDestroy");
  return finish(name);
}

}  // namespace allocator_test

#ifndef GF_CUDA_TEST_NO_MAIN
int main() { return allocator_test::run("test_cuda_allocator"); }
#endif

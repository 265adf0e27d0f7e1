// Helpers shared by the CUDA C++ tests (native/tests/test_cuda_*): the no-GPU skip (print
// "SKIP: <reason>", exit code 77, which ctest's SKIP_RETURN_CODE counts as skipped), the
// small-shape mode for compute-sanitizer runs (GF_CUDA_SMALL=1; always on in the host
// emulation), checked copies to and from device buffers, and outputs poisoned with NaN.
// It is: test code, header-only, built on tests/test_util.h's failure counting. It is not
// part of the library and nothing but the tests includes it.
#pragma once
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/device.h"
#include "tests/test_util.h"

namespace gf {
namespace cuda {
namespace testing {

constexpr int kSkipExit = 77;

// True when there is a device to test on; otherwise prints why and the test returns kSkipExit.
inline bool device_or_skip(const char* test) {
  const DeviceQuery q = query_devices();
  if (q.count == 0) {
    std::printf("SKIP: %s\n", q.reason.c_str());
    std::fflush(stdout);
    return false;
  }
  const DeviceInfo d = device_info(0);
  std::printf("%s: device 0 of %d: %s (compute capability %d.%d, %d SMs)\n", test, q.count,
              d.ok ? d.name.c_str() : d.reason.c_str(), d.major, d.minor, d.multiprocessors);
  return true;
}

inline constexpr bool emulated() {
#ifdef GF_CUDA_EMULATE
  return true;
#else
  return false;
#endif
}

inline bool small_mode() {
#ifdef GF_CUDA_EMULATE
  return true;  // every block's threads are real threads there: keep the shapes small
#else
  const char* s = std::getenv("GF_CUDA_SMALL");
  return s != nullptr && *s != '\0' && std::strcmp(s, "0") != 0;
#endif
}

inline bool ok(cudaError_t e, const std::string& what) {
  test::check(e == cudaSuccess, error_message(e, what.c_str()));
  return e == cudaSuccess;
}

inline bool ok(const Status& s, const std::string& what) {
  test::check(s.ok(), what + ": " + s.message);
  return s.ok();
}

// Allocates offset + h.size() + guard floats, fills all of it with NaN bytes (0xFF), copies h
// to float index `offset`; *p points there. offset = 1 makes the pointer misaligned for
// float4; the guard floats after the data must stay 0xFFFFFFFF (see guard_intact).
inline bool upload(const std::vector<float>& h, size_t offset, size_t guard, cudaStream_t stream,
                   DeviceBuffer* buf, float** p) {
  const size_t total = offset + h.size() + guard;
  if (!ok(buf->allocate(total * sizeof(float), stream), "allocate")) return false;
  float* base = buf->as<float>();
  if (!ok(cudaMemsetAsync(base, 0xFF, total * sizeof(float), stream), "cudaMemsetAsync")) return false;
  if (!h.empty() &&
      !ok(cudaMemcpyAsync(base + offset, h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice, stream),
          "cudaMemcpyAsync H2D"))
    return false;
  *p = base + offset;
  return true;
}

// Copies n floats from device p into *h, then waits for the stream (a kernel fault shows here).
inline bool download(const float* p, size_t n, cudaStream_t stream, std::vector<float>* h) {
  h->assign(n, 0.0f);
  if (n && !ok(cudaMemcpyAsync(h->data(), p, n * sizeof(float), cudaMemcpyDeviceToHost, stream),
               "cudaMemcpyAsync D2H"))
    return false;
  return ok(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
}

// The `guard` floats after p[0, n) still hold the 0xFF poison: nothing wrote past the end.
inline bool guard_intact(const float* p, size_t n, size_t guard, cudaStream_t stream, const std::string& what) {
  std::vector<float> g;
  if (!download(p + n, guard, stream, &g)) return false;
  for (size_t i = 0; i < guard; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &g[i], sizeof bits);
    if (bits != 0xFFFFFFFFu) {
      test::fail(what + ": wrote past the end of the output (guard element " + std::to_string(i) + ")");
      return false;
    }
  }
  test::check(true, what);
  return true;
}

// got within tol[i] of want[i] everywhere: a NaN want needs a NaN, an infinite want the same
// infinity. One check; a failure names the first element that differs.
template <class W>
inline void expect_close(const std::vector<float>& got, const std::vector<W>& want,
                         const std::vector<double>& tol, const std::string& what) {
  ++test::checks();
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = got[i], w = static_cast<double>(want[i]);
    const bool good = std::isnan(w) ? std::isnan(g) : std::isinf(w) ? g == w : std::fabs(g - w) <= tol[i];
    if (!good) {
      char buf[160];
      std::snprintf(buf, sizeof buf, " at [%zu]: got %.9g want %.9g tol %.3g", i, g, w, tol[i]);
      test::fail(what + buf);
      return;
    }
  }
}

// An output of n floats, every one NaN (a kernel that skips an element shows), with `guard`
// poison floats after it (see guard_intact).
inline bool poisoned_output(size_t n, size_t guard, cudaStream_t stream, DeviceBuffer* buf, float** p) {
  return upload(std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()), 0, guard, stream, buf, p);
}

// Downloads p[0, n) (into *got when given), expects it close to want, and checks the guard.
template <class W>
inline void expect_output(const float* p, size_t n, size_t guard, const std::vector<W>& want,
                          const std::vector<double>& tol, cudaStream_t stream, const std::string& what,
                          std::vector<float>* got = nullptr) {
  std::vector<float> local;
  std::vector<float>* g = got != nullptr ? got : &local;
  if (!download(p, n, stream, g)) return;
  expect_close(*g, want, tol, what);
  guard_intact(p, n, guard, stream, what + " (guard)");
}

}  // namespace testing
}  // namespace cuda
}  // namespace gf

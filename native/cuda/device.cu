// Device discovery (device.h) and the error text helpers (check.h).
// It is: host code only, every CUDA call checked, every failure returned as text. It is not:
// a context manager (the runtime's primary context is used as is) or a place for kernels.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>

#include "cuda/check.h"
#include "cuda/device.h"

namespace gf {
namespace cuda {

std::string error_message(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return std::string(what) + ": ok";
  // cudaGetErrorName/String are pure lookups: they work without a driver, for any code
  // (unknown codes give "unrecognized error code").
  const char* name = cudaGetErrorName(e);
  const char* text = cudaGetErrorString(e);
  return std::string(what) + " failed: " + (text ? text : "unknown error") + " (" +
         (name ? name : "cudaError?") + " = " + std::to_string(static_cast<int>(e)) + ")";
}

Status make_status(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return ok_status();
  return Status{e, error_message(e, what)};
}

// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace device_impl {
namespace {

std::string version_text(int v) {  // 13000 -> "13.0"
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

// Why no device: the CUDA error, plus the one hint a user needs for the common cases.
std::string reason_for(cudaError_t e) {
  std::string r = error_message(e, "cudaGetDeviceCount");
  if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice) {
    const int drv = driver_version();
    r += drv == 0 ? "; no NVIDIA driver was found (libcuda.so)"
                  : "; the driver supports CUDA " + version_text(drv);
    r += ", and this build needs a driver for CUDA " + version_text(runtime_version()) +
         " or later with a device of compute capability 7.5 or newer";
  }
  return r;
}

}  // namespace
}  // namespace device_impl

int runtime_version() { return CUDART_VERSION; }

int driver_version() {
  int v = 0;
  // Without a driver this returns cudaSuccess with 0 (or an error): either way 0 means none.
  if (cudaDriverGetVersion(&v) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return v;
}

DeviceQuery query_devices() {
  using namespace device_impl;
  DeviceQuery q;
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    // Not a sticky error, but the runtime remembers it as this thread's last error; clear it
    // so a later, unrelated cudaGetLastError() does not report it.
    (void)cudaGetLastError();
    q.reason = reason_for(e);
    return q;
  }
  if (n <= 0) {
    q.reason = "cudaGetDeviceCount found no CUDA device";
    return q;
  }
  q.count = n;
  return q;
}

DeviceInfo device_info(int device) {
  DeviceInfo info;
  const DeviceQuery q = query_devices();
  if (q.count == 0) {
    info.reason = q.reason;
    return info;
  }
  if (device < 0 || device >= q.count) {
    info.reason = "device " + std::to_string(device) + " does not exist (" +
                  std::to_string(q.count) + " device(s))";
    return info;
  }
  cudaDeviceProp p{};
  const cudaError_t e = cudaGetDeviceProperties(&p, device);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    info.reason = error_message(e, ("cudaGetDeviceProperties(" + std::to_string(device) + ")").c_str());
    return info;
  }
  info.ok = true;
  info.name = p.name;
  info.major = p.major;
  info.minor = p.minor;
  info.multiprocessors = p.multiProcessorCount;
  info.total_memory = p.totalGlobalMem;
  return info;
}

}  // namespace cuda
}  // namespace gf

// What CUDA devices this process can use, for backendInfo().cuda and for the CUDA tests'
// skip decision. It is: plain C++ (no CUDA headers, so native/binding includes it with the
// host compiler) over the statically linked CUDA runtime. It never aborts and never throws:
// no driver, no device or a driver older than the runtime give count 0 and the reason. It is
// not: device selection or policy (lib/backend decides what "available" means to a user).
#pragma once
#include <cstddef>
#include <string>

namespace gf {
namespace cuda {

struct DeviceQuery {
  int count = 0;       // usable devices; 0 when none (or no driver)
  std::string reason;  // empty when count > 0, else why none: the CUDA error's text and name
};

// cudaGetDeviceCount, made safe to call anywhere (including on machines with no NVIDIA
// driver at all, where the static runtime finds no libcuda.so and reports that).
DeviceQuery query_devices();

struct DeviceInfo {
  bool ok = false;           // false: reason says why (bad index, no driver, ...)
  std::string name;          // e.g. "NVIDIA H200"
  int major = 0, minor = 0;  // compute capability, e.g. 9.0
  int multiprocessors = 0;
  std::size_t total_memory = 0;  // bytes
  std::string reason;
};

// Name, compute capability, SM count and memory of device `device` (0 <= device < count).
DeviceInfo device_info(int device);

// The CUDA runtime this library was built with (CUDART_VERSION, e.g. 13000) and the driver's
// supported version (cudaDriverGetVersion; 0 where there is no driver).
int runtime_version();
int driver_version();

}  // namespace cuda
}  // namespace gf

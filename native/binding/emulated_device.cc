// The CUDA kernels and runtime of the emulated addon (build-cuda/emulated/gradforge.node, a
// test tool, never shipped): every native/cuda source compiled here by the host compiler over
// cuda/emulate.h, and the runtime calls defined by cuda/emulate_runtime.h (one device, "device
// memory" is host memory, every call synchronous). The rest of that addon is the real binding,
// so the JavaScript cuda backend, the device storage handles and the exports' CUDA dispatch run
// on a machine with no GPU (test/cuda-backend.test.ts). It is not: a fast or faithful GPU.
#ifndef GF_CUDA_EMULATE
#error "native/binding/emulated_device.cc is compiled with GF_CUDA_EMULATE (CMakeLists.txt)"
#endif
#include "cuda/emulate.h"
#include "cuda/emulate_runtime.h"

#include "gf_emulated_kernels.h"

// The CUDA kernel tests (test_cuda_gemm/elementwise/softmax.cu, unchanged) run over a host
// emulation of the device (cuda/emulate.h, cuda/emulate_runtime.h): the kernels' sources are
// compiled here by the host compiler with GF_CUDA_EMULATE, each block's threads run as real
// threads with real barriers and warp shuffles, "device memory" is host memory. So on a
// machine with no GPU (this project's CI) the kernels' index math, edge handling, double
// buffering and reductions still run against the references, in small shapes.
// It is not: a substitute for the GPU run (no warp lock-step, memory model or timing; the
// real tests skip without a device and must be run on one), or fast.
// Usage: test_cuda_emulated gemm|elementwise|softmax
#ifndef GF_CUDA_EMULATE
#define GF_CUDA_EMULATE 1
#endif
#include "cuda/emulate.h"
#include "cuda/emulate_runtime.h"

// The library's sources, emulated.
#include "cuda/device.cu"
#include "cuda/allocator.cu"
#include "cuda/gemm.cu"
#include "cuda/elementwise.cu"
#include "cuda/softmax.cu"

// The device tests, without their main().
#define GF_CUDA_TEST_NO_MAIN
#include "tests/test_cuda_gemm.cu"
#include "tests/test_cuda_elementwise.cu"
#include "tests/test_cuda_softmax.cu"

#include <chrono>
#include <cstring>

int main(int argc, char** argv) {
  const char* family = argc > 1 ? argv[1] : "";
  const auto t0 = std::chrono::steady_clock::now();
  int rc;
  if (std::strcmp(family, "gemm") == 0) rc = gemm_test::run("test_cuda_emulated gemm");
  else if (std::strcmp(family, "elementwise") == 0) rc = elementwise_test::run("test_cuda_emulated elementwise");
  else if (std::strcmp(family, "softmax") == 0) rc = softmax_test::run("test_cuda_emulated softmax");
  else {
    std::fprintf(stderr, "usage: test_cuda_emulated gemm|elementwise|softmax\n");
    return 2;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("test_cuda_emulated %s: %ld emulated kernel launches in %.1f s\n", family, gf::emu::launches(), s);
  return rc;
}

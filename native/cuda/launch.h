// How native/cuda's launchers start a kernel: GF_LAUNCH(kernel, grid, block, stream, args...).
// It is: the triple-chevron launch under nvcc, or, when GF_CUDA_EMULATE is defined (only
// native/tests/test_cuda_emulated.cc does that), a host emulation that runs each block's
// threads as std::threads (cuda/emulate.h), so the kernels' index math, edges and barriers are
// exercised on a machine with no GPU. It is not: error checking (the launcher follows each
// launch with cudaGetLastError()) or a way to run kernels fast on a CPU.
// `kernel` must be a plain name or a function-pointer variable (template arguments with commas
// would split the macro's arguments: take a pointer first). launch_grid below is the whole of
// the common launcher: a 1-D grid for a grid-stride loop, nothing for no items, the error.
#pragma once

#ifdef GF_CUDA_EMULATE
#include "cuda/emulate.h"
#define GF_LAUNCH(kernel, grid, block, stream, ...) \
  ::gf::emu::launch((kernel), (grid), (block), __VA_ARGS__)
#else
#include <cuda_runtime_api.h>
#define GF_LAUNCH(kernel, grid, block, stream, ...) \
  kernel<<<(grid), (block), 0, (stream)>>>(__VA_ARGS__)
#endif

#include <cstdint>

namespace gf {
namespace cuda {

// Blocks of `threads` threads for a grid-stride loop over n items: enough to give every item
// a thread, at most max_blocks (the loop covers the rest), and at least 1 (a launch with no
// blocks is an error; a loop over n == 0 items does nothing).
inline unsigned grid_blocks(int64_t n, int threads, int64_t max_blocks) {
  const int64_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(b < 1 ? 1 : b < max_blocks ? b : max_blocks);
}

// The launcher of a 1-D grid-stride kernel over `total` items: nothing (cudaSuccess) when
// total <= 0, else grid_blocks(total, threads, max_blocks) blocks of `threads` threads on
// `stream`, then cudaGetLastError(). `kernel` is a function (pointer); being a function
// argument, not a macro's, a template kernel's commas need no care.
template <typename Kernel, typename... Args>
cudaError_t launch_grid(Kernel kernel, int64_t total, int threads, int64_t max_blocks,
                        cudaStream_t stream, Args... args) {
  if (total <= 0) return cudaSuccess;
  GF_LAUNCH(kernel, dim3(grid_blocks(total, threads, max_blocks)), dim3(threads), stream, args...);
  return cudaGetLastError();
}

}  // namespace cuda
}  // namespace gf

// 2-D pooling and upsampling on a CUDA device, NHWC, with the contract of native/cpu/pool.h:
// the same Pool2dShape (windows see only the input elements they cover; padding is never a
// value), the same argmax (int32 ih*W + iw inside the image; the first max in (kh, kw) order
// wins, a NaN wins over numbers and the first NaN over later ones; a window covering no input
// gives -Inf and -1), averages over the covered elements only, and the three UpsampleModes.
// Every output is overwritten completely.
// It is: host-callable launchers over device pointers, float only, asynchronous on `stream`.
// Every backward pass is a gather (each dx element is one thread's fixed-order sum over the
// outputs that read it, in the CPU's scatter order), so no atomics and results do not vary
// run to run. Backward passes read each argmax entry once and skip any outside its image, as
// the CPU does. It is not: validation (the caller checks shapes, and that pointers are device
// memory of the right extent) or synchronisation.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "cpu/pool.h"  // Pool2dShape, UpsampleMode (plain types, shared with the CPU)

namespace gf {
namespace cuda {

// y (N, OH, OW, C); argmax (N, OH, OW, C) or null (values only, for inference).
cudaError_t maxpool2d_forward(const Pool2dShape& s, const float* x, float* y, int32_t* argmax,
                              cudaStream_t stream);
// dx (N, H, W, C) = the sum of dy over the outputs whose argmax is that element.
cudaError_t maxpool2d_backward(const Pool2dShape& s, const float* dy, const int32_t* argmax,
                               float* dx, cudaStream_t stream);
cudaError_t avgpool2d_forward(const Pool2dShape& s, const float* x, float* y, cudaStream_t stream);
cudaError_t avgpool2d_backward(const Pool2dShape& s, const float* dy, float* dx, cudaStream_t stream);

// x (N, HW, C) -> y (N, C); HW >= 1.
cudaError_t global_avgpool2d_forward(int64_t N, int64_t HW, int64_t C, const float* x, float* y,
                                     cudaStream_t stream);
cudaError_t global_avgpool2d_backward(int64_t N, int64_t HW, int64_t C, const float* dy,
                                      float* dx, cudaStream_t stream);
// argmax (N, C) in [0, HW), or null.
cudaError_t global_maxpool2d_forward(int64_t N, int64_t HW, int64_t C, const float* x, float* y,
                                     int32_t* argmax, cudaStream_t stream);
cudaError_t global_maxpool2d_backward(int64_t N, int64_t HW, int64_t C, const float* dy,
                                      const int32_t* argmax, float* dx, cudaStream_t stream);

// x (N, H, W, C) -> y (N, H*sh, W*sw, C).
cudaError_t upsampling2d_forward(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh,
                                 int64_t sw, UpsampleMode mode, const float* x, float* y,
                                 cudaStream_t stream);
cudaError_t upsampling2d_backward(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh,
                                  int64_t sw, UpsampleMode mode, const float* dy, float* dx,
                                  cudaStream_t stream);

}  // namespace cuda
}  // namespace gf

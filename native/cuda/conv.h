// 2-D convolution on a CUDA device, NHWC activations and Keras kernels (KH, KW, C, O), with
// the contract of native/cpu/conv.h: the same Conv2dShape (strides, dilations, explicit
// top/left pads; the bottom/right pads are implied by OH, OW), taps in the padding read 0,
// every output overwritten completely (no caller zeroing).
// It is: host-callable launchers over device pointers, float only, asynchronous on `stream`,
// built as im2col + gf::cuda::gemm (forward: bias and relu fused in the GEMM's epilogue),
// GEMM + col2im (input gradient; col2im gathers per input element, so no atomics and a fixed
// summation order) and im2col + GEMM (filter gradient; the bias gradient is a deterministic
// column sum of dy). The im2col matrix lives in a workspace from the caching allocator
// (cuda/allocator.h), built for a range of output rows at a time so that it stays under
// conv_workspace_limit() bytes (64 MiB by default); a 1x1, stride-1, unpadded convolution
// needs none (x is its own im2col matrix). Each launcher returns the first failing call's
// error (an allocation, a launch) and never aborts.
// It is not: validation (the caller checks shapes and that every pointer is device memory of
// the right extent), conv2dTranspose or the fused conv + maxpool (not here yet), or
// synchronisation (the workspace is freed in stream order; a kernel fault shows at a sync).
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "cpu/conv_shape.h"  // Conv2dShape (a plain struct, shared with the CPU)
#include "cpu/gemm.h"        // GemmActivation

namespace gf {
namespace cuda {

// y (N, OH, OW, O) = act(conv(x, w) + bias); bias (O) or null.
cudaError_t conv2d_forward(const Conv2dShape& s, const float* x, const float* w,
                           const float* bias, float* y, GemmActivation act, cudaStream_t stream);

// dx (N, H, W, C) from dy (N, OH, OW, O) and w.
cudaError_t conv2d_backward_input(const Conv2dShape& s, const float* dy, const float* w,
                                  float* dx, cudaStream_t stream);

// dw (KH, KW, C, O) from x and dy; dbias (O) = the sum of dy over N, OH, OW, or null.
cudaError_t conv2d_backward_filter(const Conv2dShape& s, const float* x, const float* dy,
                                   float* dw, float* dbias, cudaStream_t stream);

// The im2col workspace bound in bytes (process-wide). At least one im2col row is always
// built, whatever the limit; tests set a tiny limit to reach the chunked paths at small sizes.
void set_conv_workspace_limit(std::size_t bytes);
std::size_t conv_workspace_limit();

}  // namespace cuda
}  // namespace gf

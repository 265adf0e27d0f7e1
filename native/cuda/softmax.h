// Row softmax and log-softmax on a CUDA device over x viewed as (rows, cols), row-major.
// It is: the numerically stable kernels (row max subtracted before exp) with the CPU
// kernel's semantics (native/cpu/softmax.cc): a row holding NaN or +Inf, or only -Inf, gives
// NaN, as NumPy/PyTorch do. out may equal x. Asynchronous on `stream`.
// It is not: axis handling (lib moves the axis last), gradients, or validation.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace gf {
namespace cuda {

// out = softmax(x) per row, or log-softmax when log. rows == 0 or cols == 0 does nothing.
cudaError_t softmax_forward(const float* x, int64_t rows, int64_t cols, float* out, bool log,
                            cudaStream_t stream);

}  // namespace cuda
}  // namespace gf

// The CUDA side of cnn.cc's exports (conv2d forward and gradients, the fused conv + max pool,
// 2-D, global and up-sampling pooling, batch normalization), built only with GF_HAVE_CUDA.
// Each export checks its arguments exactly as for CPU arrays, then, when they are device
// storage (GF_ON_DEVICE in args.h), calls the one of these with the checked views and
// geometry: float32 only (device::float32_only; argmax arrays are int32 device storage), the
// launchers of native/cuda/conv.h, pool.h and batchnorm.h (which take the very Conv2dShape,
// Pool2dShape and UpsampleMode of the CPU kernels) queued on the binding's stream, a CUDA
// error thrown as an Error with code 'GF_CUDA_ERROR'.
//
// Two differences from the CPU path, both about what cannot be done on the host:
// - conv2dMaxPool2dForward has no fused CUDA kernel: the convolution is written to a
//   temporary device buffer (N, OH, OW, O), freed in stream order, then max pooled without
//   argmax: the same bits as conv2dForward then maxPool2dForward on the device.
// - maxPool2dBackward and globalPool2dBackward do not range-check a device argmax (cnn.cc's
//   check_argmax would read device memory on the host): the CUDA backward kernels read each
//   entry once and skip one outside its image (cuda/pool.h), so a bad index is ignored on
//   the device where the CPU refuses it with a RangeError; either way nothing out of bounds
//   is touched.
// It is not: checking (done before), policy (lib/ops), or a plan step.
#pragma once
#ifndef GF_HAVE_CUDA
#error "binding/device_cnn.h is for the CUDA build (GF_HAVE_CUDA)"
#endif
#include <napi.h>

#include <cstdint>

#include "binding/args.h"
#include "cpu/conv_shape.h"
#include "cpu/gemm.h"
#include "cpu/pool.h"

namespace gf {
namespace binding {
namespace device {

Napi::Value conv2d_forward(const Call& c, const Conv2dShape& s, const ArrayView& x, const ArrayView& w,
                           const ArrayView& bias, const ArrayView& y, GemmActivation act);
Napi::Value conv2d_backward_input(const Call& c, const Conv2dShape& s, const ArrayView& dy,
                                  const ArrayView& w, const ArrayView& dx);
Napi::Value conv2d_backward_filter(const Call& c, const Conv2dShape& s, const ArrayView& x,
                                   const ArrayView& dy, const ArrayView& dw, const ArrayView& dbias);
// p: the pooling of the convolution's output (p.N, p.H, p.W, p.C = s.N, s.OH, s.OW, s.O).
Napi::Value conv2d_maxpool2d_forward(const Call& c, const Conv2dShape& s, const Pool2dShape& p,
                                     const ArrayView& x, const ArrayView& w, const ArrayView& bias,
                                     const ArrayView& y, GemmActivation act);

// argmax empty (absent): values only.
Napi::Value maxpool2d_forward(const Call& c, const Pool2dShape& s, const ArrayView& x, const ArrayView& y,
                              const ArrayView& argmax);
Napi::Value maxpool2d_backward(const Call& c, const Pool2dShape& s, const ArrayView& dy,
                               const ArrayView& argmax, const ArrayView& dx);
Napi::Value avgpool2d_forward(const Call& c, const Pool2dShape& s, const ArrayView& x, const ArrayView& y);
Napi::Value avgpool2d_backward(const Call& c, const Pool2dShape& s, const ArrayView& dy, const ArrayView& dx);
// is_max false: argmax absent (op 'avg').
Napi::Value global_pool2d_forward(const Call& c, bool is_max, int64_t N, int64_t HW, int64_t C,
                                  const ArrayView& x, const ArrayView& y, const ArrayView& argmax);
Napi::Value global_pool2d_backward(const Call& c, bool is_max, int64_t N, int64_t HW, int64_t C,
                                   const ArrayView& dy, const ArrayView& argmax, const ArrayView& dx);
// d: N, H, W, C, sh, sw (of the small image).
Napi::Value upsampling2d_forward(const Call& c, const int64_t d[6], UpsampleMode mode, const ArrayView& x,
                                 const ArrayView& y);
Napi::Value upsampling2d_backward(const Call& c, const int64_t d[6], UpsampleMode mode, const ArrayView& dy,
                                  const ArrayView& dx);

// Absent optional arrays (gamma, beta, the moving statistics, dgamma, dbeta) are empty views.
Napi::Value batchnorm_train(const Call& c, int64_t M, int64_t C, const ArrayView& x, const ArrayView& gamma,
                            const ArrayView& beta, double eps, double momentum, const ArrayView& y,
                            const ArrayView& mean, const ArrayView& inv_std, const ArrayView& moving_mean,
                            const ArrayView& moving_var);
Napi::Value batchnorm_inference(const Call& c, int64_t M, int64_t C, const ArrayView& x,
                                const ArrayView& gamma, const ArrayView& beta, const ArrayView& moving_mean,
                                const ArrayView& moving_var, double eps, const ArrayView& y);
Napi::Value batchnorm_backward(const Call& c, int64_t M, int64_t C, const ArrayView& x, const ArrayView& dy,
                               const ArrayView& gamma, const ArrayView& mean, const ArrayView& inv_std,
                               const ArrayView& dx, const ArrayView& dgamma, const ArrayView& dbeta);
Napi::Value batchnorm_backward_inference(const Call& c, int64_t M, int64_t C, const ArrayView& x,
                                         const ArrayView& dy, const ArrayView& gamma,
                                         const ArrayView& moving_mean, const ArrayView& moving_var,
                                         double eps, const ArrayView& dx, const ArrayView& dgamma,
                                         const ArrayView& dbeta);

}  // namespace device
}  // namespace binding
}  // namespace gf

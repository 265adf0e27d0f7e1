// cnn.cc's exports on device storage (contract in binding/device_cnn.h).
#include "binding/device_cnn.h"

#include <cstddef>

#include "binding/device_math.h"  // float32_only
#include "binding/device_storage.h"
#include "cuda/batchnorm.h"
#include "cuda/buffer.h"
#include "cuda/conv.h"
#include "cuda/pool.h"

namespace gf {
namespace binding {
namespace device {

// ---- convolution ---------------------------------------------------------------------------

Napi::Value conv2d_forward(const Call& c, const Conv2dShape& s, const ArrayView& x, const ArrayView& w,
                           const ArrayView& bias, const ArrayView& y, GemmActivation act) {
  if (!float32_only(c, {&x, &w, &bias, &y})) return c.undef();
  return done(c, cuda::conv2d_forward(s, in(x), in(w), in(bias), out_of(y), act, binding_stream()));
}

Napi::Value conv2d_backward_input(const Call& c, const Conv2dShape& s, const ArrayView& dy,
                                  const ArrayView& w, const ArrayView& dx) {
  if (!float32_only(c, {&dy, &w, &dx})) return c.undef();
  return done(c, cuda::conv2d_backward_input(s, in(dy), in(w), out_of(dx), binding_stream()));
}

Napi::Value conv2d_backward_filter(const Call& c, const Conv2dShape& s, const ArrayView& x,
                                   const ArrayView& dy, const ArrayView& dw, const ArrayView& dbias) {
  if (!float32_only(c, {&x, &dy, &dw, &dbias})) return c.undef();
  return done(c, cuda::conv2d_backward_filter(s, in(x), in(dy), out_of(dw), out_of(dbias), binding_stream()));
}

Napi::Value conv2d_maxpool2d_forward(const Call& c, const Conv2dShape& s, const Pool2dShape& p,
                                     const ArrayView& x, const ArrayView& w, const ArrayView& bias,
                                     const ArrayView& y, GemmActivation act) {
  if (!float32_only(c, {&x, &w, &bias, &y})) return c.undef();
  // cnn.cc checked that N*OH*OW*O fits int64 (conv_geometry) and returned for N == 0.
  const int64_t conv_elems = s.N * s.OH * s.OW * s.O;
  if (conv_elems <= 0) return c.undef();
  cuda::DeviceBuffer conv;  // freed in stream order when it goes out of scope
  const cuda::Status st =
      conv.allocate(static_cast<std::size_t>(conv_elems) * sizeof(float), binding_stream());
  if (!st.ok()) return done(c, st);
  cudaError_t e = cuda::conv2d_forward(s, in(x), in(w), in(bias), conv.as<float>(), act, binding_stream());
  if (e == cudaSuccess) e = cuda::maxpool2d_forward(p, conv.as<float>(), out_of(y), nullptr, binding_stream());
  return done(c, e);
}

// ---- pooling -------------------------------------------------------------------------------

Napi::Value maxpool2d_forward(const Call& c, const Pool2dShape& s, const ArrayView& x, const ArrayView& y,
                              const ArrayView& argmax) {
  if (!float32_only(c, {&x, &y})) return c.undef();
  return done(c, cuda::maxpool2d_forward(s, in(x), out_of(y), index_out(argmax), binding_stream()));
}

Napi::Value maxpool2d_backward(const Call& c, const Pool2dShape& s, const ArrayView& dy,
                               const ArrayView& argmax, const ArrayView& dx) {
  if (!float32_only(c, {&dy, &dx})) return c.undef();
  return done(c, cuda::maxpool2d_backward(s, in(dy), index_in(argmax), out_of(dx), binding_stream()));
}

Napi::Value avgpool2d_forward(const Call& c, const Pool2dShape& s, const ArrayView& x, const ArrayView& y) {
  if (!float32_only(c, {&x, &y})) return c.undef();
  return done(c, cuda::avgpool2d_forward(s, in(x), out_of(y), binding_stream()));
}

Napi::Value avgpool2d_backward(const Call& c, const Pool2dShape& s, const ArrayView& dy, const ArrayView& dx) {
  if (!float32_only(c, {&dy, &dx})) return c.undef();
  return done(c, cuda::avgpool2d_backward(s, in(dy), out_of(dx), binding_stream()));
}

Napi::Value global_pool2d_forward(const Call& c, bool is_max, int64_t N, int64_t HW, int64_t C,
                                  const ArrayView& x, const ArrayView& y, const ArrayView& argmax) {
  if (!float32_only(c, {&x, &y})) return c.undef();
  return done(c, is_max ? cuda::global_maxpool2d_forward(N, HW, C, in(x), out_of(y), index_out(argmax),
                                                         binding_stream())
                        : cuda::global_avgpool2d_forward(N, HW, C, in(x), out_of(y), binding_stream()));
}

Napi::Value global_pool2d_backward(const Call& c, bool is_max, int64_t N, int64_t HW, int64_t C,
                                   const ArrayView& dy, const ArrayView& argmax, const ArrayView& dx) {
  if (!float32_only(c, {&dy, &dx})) return c.undef();
  return done(c, is_max ? cuda::global_maxpool2d_backward(N, HW, C, in(dy), index_in(argmax), out_of(dx),
                                                          binding_stream())
                        : cuda::global_avgpool2d_backward(N, HW, C, in(dy), out_of(dx), binding_stream()));
}

Napi::Value upsampling2d_forward(const Call& c, const int64_t d[6], UpsampleMode mode, const ArrayView& x,
                                 const ArrayView& y) {
  if (!float32_only(c, {&x, &y})) return c.undef();
  return done(c, cuda::upsampling2d_forward(d[0], d[1], d[2], d[3], d[4], d[5], mode, in(x), out_of(y),
                                            binding_stream()));
}

Napi::Value upsampling2d_backward(const Call& c, const int64_t d[6], UpsampleMode mode, const ArrayView& dy,
                                  const ArrayView& dx) {
  if (!float32_only(c, {&dy, &dx})) return c.undef();
  return done(c, cuda::upsampling2d_backward(d[0], d[1], d[2], d[3], d[4], d[5], mode, in(dy), out_of(dx),
                                             binding_stream()));
}

// ---- batch normalization -------------------------------------------------------------------

Napi::Value batchnorm_train(const Call& c, int64_t M, int64_t C, const ArrayView& x, const ArrayView& gamma,
                            const ArrayView& beta, double eps, double momentum, const ArrayView& y,
                            const ArrayView& mean, const ArrayView& inv_std, const ArrayView& moving_mean,
                            const ArrayView& moving_var) {
  if (!float32_only(c, {&x, &gamma, &beta, &y, &mean, &inv_std, &moving_mean, &moving_var})) return c.undef();
  return done(c, cuda::batchnorm_forward_train(M, C, in(x), in(gamma), in(beta), eps, momentum, out_of(y),
                                               out_of(mean), out_of(inv_std), out_of(moving_mean),
                                               out_of(moving_var), binding_stream()));
}

Napi::Value batchnorm_inference(const Call& c, int64_t M, int64_t C, const ArrayView& x,
                                const ArrayView& gamma, const ArrayView& beta, const ArrayView& moving_mean,
                                const ArrayView& moving_var, double eps, const ArrayView& y) {
  if (!float32_only(c, {&x, &gamma, &beta, &moving_mean, &moving_var, &y})) return c.undef();
  return done(c, cuda::batchnorm_forward_inference(M, C, in(x), in(gamma), in(beta), in(moving_mean),
                                                   in(moving_var), eps, out_of(y), binding_stream()));
}

Napi::Value batchnorm_backward(const Call& c, int64_t M, int64_t C, const ArrayView& x, const ArrayView& dy,
                               const ArrayView& gamma, const ArrayView& mean, const ArrayView& inv_std,
                               const ArrayView& dx, const ArrayView& dgamma, const ArrayView& dbeta) {
  if (!float32_only(c, {&x, &dy, &gamma, &mean, &inv_std, &dx, &dgamma, &dbeta})) return c.undef();
  return done(c, cuda::batchnorm_backward(M, C, in(x), in(dy), in(gamma), in(mean), in(inv_std), out_of(dx),
                                          out_of(dgamma), out_of(dbeta), binding_stream()));
}

Napi::Value batchnorm_backward_inference(const Call& c, int64_t M, int64_t C, const ArrayView& x,
                                         const ArrayView& dy, const ArrayView& gamma,
                                         const ArrayView& moving_mean, const ArrayView& moving_var,
                                         double eps, const ArrayView& dx, const ArrayView& dgamma,
                                         const ArrayView& dbeta) {
  if (!float32_only(c, {&x, &dy, &gamma, &moving_mean, &moving_var, &dx, &dgamma, &dbeta})) return c.undef();
  return done(c, cuda::batchnorm_backward_inference(M, C, in(x), in(dy), in(gamma), in(moving_mean),
                                                    in(moving_var), eps, out_of(dx), out_of(dgamma),
                                                    out_of(dbeta), binding_stream()));
}

}  // namespace device
}  // namespace binding
}  // namespace gf

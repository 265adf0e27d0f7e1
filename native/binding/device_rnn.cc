// rnn.cc's exports on device storage (contract and the workspace decision in
// binding/device_rnn.h).
#include "binding/device_rnn.h"

#include <algorithm>

#include "binding/device_math.h"  // float32_only
#include "binding/device_storage.h"
#include "cuda/rnn.h"

namespace gf {
namespace binding {
namespace device {

namespace {
const uint8_t* bytes_of(const ArrayView& a) {
  return a.data == nullptr ? nullptr : a.as<const uint8_t>();
}

// The CUDA kernels' own layout (cuda/rnn.h) must fit: rnn.cc already required
// rnn_workspace_size(cfg) >= it, so this only fires if that decision changes.
bool cuda_workspace_fits(const Call& c, const RnnConfig& cfg, const ArrayView& ws) {
  return c.need(ws, "workspace", cuda::rnn_workspace_size(cfg),
                "the CUDA recurrent kernels' layout (rnnWorkspaceSize)");
}
}  // namespace

int64_t rnn_workspace_size(const RnnConfig& cfg) {
  return std::max(gf::rnn_workspace_size(cfg), cuda::rnn_workspace_size(cfg));
}

Napi::Value rnn_forward(const Call& c, const RnnConfig& cfg, const ArrayView& x, const ArrayView& W,
                        const ArrayView& R, const ArrayView& b, const ArrayView& h0,
                        const ArrayView& c0, const ArrayView& mask, const ArrayView& y,
                        const ArrayView& hT, const ArrayView& cT, const ArrayView& ws,
                        const ArrayView& rmask) {
  if (!float32_only(c, {&x, &W, &R, &b, &h0, &c0, &y, &hT, &cT, &ws, &rmask}) ||
      !cuda_workspace_fits(c, cfg, ws))
    return c.undef();
  if (cfg.N == 0 || cfg.U == 0) return c.undef();  // nothing to write (rnn.cc's top comment)
  return done(c, cuda::rnn_forward(cfg, in(x), in(W), in(R), in(b), in(h0), in(c0), bytes_of(mask),
                                       out_of(y), out_of(hT), out_of(cT), out_of(ws), in(rmask),
                                       binding_stream()));
}

Napi::Value rnn_backward(const Call& c, const RnnConfig& cfg, const ArrayView& x, const ArrayView& W,
                         const ArrayView& R, const ArrayView& mask, const ArrayView& dy,
                         const ArrayView& dhT, const ArrayView& dcT, const ArrayView& ws,
                         const ArrayView& dx, const ArrayView& dh0, const ArrayView& dc0,
                         const ArrayView& dW, const ArrayView& dR, const ArrayView& db,
                         const ArrayView& rmask, int64_t x_elems) {
  if (!float32_only(c, {&x, &W, &R, &dy, &dhT, &dcT, &ws, &dx, &dh0, &dc0, &dW, &dR, &db, &rmask}) ||
      !cuda_workspace_fits(c, cfg, ws))
    return c.undef();
  if (cfg.U == 0) {  // as on the CPU: every gradient is empty except dx, which is zero
    if (dx.data == nullptr || x_elems == 0) return c.undef();
    return done(c, cudaMemsetAsync(dx.data, 0, static_cast<size_t>(x_elems) * sizeof(float),
                                       binding_stream()));
  }
  return done(c, cuda::rnn_backward(cfg, in(x), in(W), in(R), bytes_of(mask), in(dy), in(dhT),
                                        in(dcT), out_of(ws), out_of(dx), out_of(dh0), out_of(dc0),
                                        out_of(dW), out_of(dR), out_of(db), in(rmask),
                                        binding_stream()));
}

}  // namespace device
}  // namespace binding
}  // namespace gf

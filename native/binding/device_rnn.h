// The CUDA side of rnn.cc's exports (rnnWorkspaceSize, rnnForward, rnnBackward), built only
// with GF_HAVE_CUDA. rnn.cc checks every argument exactly as for CPU arrays, then, when they
// are device storage (GF_ON_DEVICE in args.h), calls one of these with the checked views and
// config: float32 only (device::float32_only), the launchers of native/cuda/rnn.h queued on the
// binding's stream, a CUDA error thrown as an Error with code 'GF_CUDA_ERROR'. The masks (the
// uint8 input mask and the float recurrent mask) are device storage too.
//
// The workspace: the CUDA kernels have their own layout and size (cuda/rnn.h), not the CPU's
// (cpu/rnn.h), and rnnWorkspaceSize takes no array, so it cannot tell which device a call will
// run on. In a CUDA build it therefore reports workspace_size(cfg) = max(CPU size, CUDA size),
// and both paths require that many elements: one contract ("the workspace has at least
// rnnWorkspaceSize(cfg) elements") whatever the device, at the price of some unused memory
// for CPU tensors in CUDA builds only (SimpleRNN, and LSTM for T > 2, need more on the device;
// GRU with resetAfter more on the CPU). A CPU-only build reports and requires the CPU size,
// exactly as before. rnn_forward/rnn_backward below re-check the CUDA size themselves (a
// RangeError), so the device kernels never see a short workspace whatever rnn.cc decides.
// It is not: checking (done before), policy (lib/ops/rnn.ts), or a plan step.
#pragma once
#ifndef GF_HAVE_CUDA
#error "binding/device_rnn.h is for the CUDA build (GF_HAVE_CUDA)"
#endif
#include <napi.h>

#include <cstdint>

#include "binding/args.h"
#include "cpu/rnn.h"

namespace gf {
namespace binding {
namespace device {

// What rnnWorkspaceSize reports and both paths require in a CUDA build: the larger of the
// CPU's and the CUDA kernels' sizes (see the top). cfg's sizes must already be checked (the
// product bound of rnn.cc's rnn_config keeps both sizes inside int64).
int64_t rnn_workspace_size(const RnnConfig& cfg);

// rnnForward on device storage: the arguments as rnn.cc checked them (absent optional arrays
// have data == nullptr).
Napi::Value rnn_forward(const Call& c, const RnnConfig& cfg, const ArrayView& x, const ArrayView& W,
                        const ArrayView& R, const ArrayView& b, const ArrayView& h0,
                        const ArrayView& c0, const ArrayView& mask, const ArrayView& y,
                        const ArrayView& hT, const ArrayView& cT, const ArrayView& ws,
                        const ArrayView& rmask);

// rnnBackward on device storage; x_elems = N*T*In (what dx must be zeroed over when U = 0).
Napi::Value rnn_backward(const Call& c, const RnnConfig& cfg, const ArrayView& x, const ArrayView& W,
                         const ArrayView& R, const ArrayView& mask, const ArrayView& dy,
                         const ArrayView& dhT, const ArrayView& dcT, const ArrayView& ws,
                         const ArrayView& dx, const ArrayView& dh0, const ArrayView& dc0,
                         const ArrayView& dW, const ArrayView& dR, const ArrayView& db,
                         const ArrayView& rmask, int64_t x_elems);

}  // namespace device
}  // namespace binding
}  // namespace gf

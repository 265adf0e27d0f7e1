// Recurrent layers (SimpleRNN, LSTM, GRU with reset_after true and false) on a CUDA device, with
// the contract of native/cpu/rnn.h (shapes, Keras gate order, activations, go_backwards, the
// input mask and zero_output_for_mask, the recurrent dropout mask rmask, outputs OVERWRITTEN,
// nullptr meaning zeros / not wanted) on device pointers, asynchronous on `stream`.
// It is: the input projection of every step as one gf::cuda::gemm (x (N*T, In) W (In, G*U) plus
// the input bias), per step a recurrent GEMM (hd R) and an elementwise cell kernel, and the
// exact backward (per step a gate-gradient kernel and the GEMM for dh_{t-1} = dgates R^T; dW,
// dR and dx as one GEMM each over all steps from the stored states; db as column sums in a
// fixed row order, no float atomics, so results are run-to-run deterministic).
// It is not: validation (the caller checks sizes and that each pointer is device memory of the
// right extent), double precision, or fast for tiny batches (T small kernels per direction).
//
// Workspace: rnn_workspace_size(cfg) floats, NOT the CPU's layout or size. M = N*T, GU = G*U,
// every per-step array stored in x's row order (row n*T + t, input time t), so that one step's
// rows are a strided view (ld = T*width) and all steps together are one GEMM operand:
//   gates  (M, GU)   pre-activations, then the activated gates; backward writes dgates over it
//   hd     (M, U)    h_{t-1} * rmask (what multiplied R)
//   hprev  (M, U)    the undropped h_{t-1}
//   aux    (M, U)    LSTM c_{t-1}; GRU reset_after hd R_h + b_rec_h; GRU reset_before r*hd
//   dr     (M, GU)   GRU reset_after only: the recurrent side's gate gradients (backward)
//   rec    (N, GU)   GRU reset_after only: one step's hd R + b_rec (forward scratch)
//   state  6 (N, U)  h, c, dh, dc, dh_direct, dhd (running state and backward scratch)
// As on the CPU, a backward consumes the workspace of the forward just run with the same
// arguments. The launchers allocate nothing; errors are the launches' (cudaGetLastError), a
// fault inside a kernel shows at the next synchronisation.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "cpu/rnn.h"  // RnnConfig, RnnCell, RnnActivation, rnn_gates (plain declarations)

namespace gf {
namespace cuda {

// Floats of workspace for rnn_forward + rnn_backward (layout above).
int64_t rnn_workspace_size(const RnnConfig& cfg);

// x (N, T, In), W (In, G*U), R (U, G*U), b (G*U) or (2, G*U) for GRU reset_after, or nullptr;
// h0, c0 (N, U) or nullptr (zeros); mask (N, T) uint8 or nullptr; y (N, T, U) in processing
// order; hT, cT (N, U) or nullptr (not written); recurrentMask (N, U) or nullptr.
cudaError_t rnn_forward(const RnnConfig& cfg, const float* x, const float* W, const float* R,
                        const float* b, const float* h0, const float* c0, const uint8_t* mask,
                        float* y, float* hT, float* cT, float* workspace,
                        const float* recurrentMask, cudaStream_t stream);

// dy (N, T, U) in y's order, dhT, dcT (N, U) or nullptr (zeros). Writes dx (N, T, In), dh0, dc0
// (N, U) (any of the three, and db, may be nullptr), dW (In, G*U), dR (U, G*U), db (b's shape).
// x, W, R, mask and recurrentMask must be the forward's; workspace the forward's, just filled.
cudaError_t rnn_backward(const RnnConfig& cfg, const float* x, const float* W, const float* R,
                         const uint8_t* mask, const float* dy, const float* dhT,
                         const float* dcT, float* workspace, float* dx, float* dh0, float* dc0,
                         float* dW, float* dR, float* db, const float* recurrentMask,
                         cudaStream_t stream);

}  // namespace cuda
}  // namespace gf

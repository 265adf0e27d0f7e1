// 2-D convolution kernels, NHWC activations and Keras kernel layout [KH, KW, C, O].
// It is: conv2d forward (im2col + GEMM), its input gradient (GEMM + col2im), its filter and
// bias gradient (GEMM over row blocks of the im2col matrix, fixed-order partial sums), and
// conv2dTranspose forward/backward expressed through them. It is not: validation or policy
// ('same'/'valid' padding, output sizes): the binding and lib compute those and pass explicit
// numbers; the kernels trust every size and pointer.
//
// ---- Binding contract (what native/binding will wrap, one export per function) ------------
// Every function takes a Conv2dShape `s` that describes a FORWARD conv2d:
//   x: (N, H, W, C)   w: (KH, KW, C, O)   y: (N, OH, OW, O)   bias: (O)
//   y[n,oh,ow,o] = bias[o] + sum_{kh,kw,c} x[n, oh*sh - pad_top + kh*dh,
//                                           ow*sw - pad_left + kw*dw, c] * w[kh,kw,c,o]
//   (taps outside the input read 0). Requires N >= 0 and every other field >= 1 except the
//   pads (>= 0); OH, OW as conv_output_size() gives them (the bottom/right pads are implied).
// float and double (double is for gradcheck). No function needs a zeroed output: each one
// overwrites its outputs completely.
//
//   conv2d_forward<T>(s, x, w, bias|nullptr, y)
//   conv2d_backward_input<T>(s, dy, w, dx)                 dy: (N,OH,OW,O) -> dx: (N,H,W,C)
//   conv2d_backward_filter<T>(s, x, dy, dw, dbias|nullptr) dw: (KH,KW,C,O), dbias: (O)
//
// conv2dTranspose (Keras Conv2DTranspose, kernel [KH, KW, filters, in_channels]) is the
// adjoint of a conv2d: pass the Conv2dShape of the conv2d that maps the transpose's OUTPUT
// back to its INPUT, i.e. H, W, C = transpose output size and filters; OH, OW, O = transpose
// input size and channels. Then
//   conv2d_transpose_forward<T>(s, x, w, bias|nullptr, y)    x: (N,OH,OW,O) -> y: (N,H,W,C)
//   conv2d_transpose_backward_input<T>(s, dy, w, dx)         dy: (N,H,W,C) -> dx: (N,OH,OW,O)
//   conv2d_transpose_backward_filter<T>(s, x, dy, dw, dbias|nullptr)
//                                                   dw: (KH,KW,C,O) = Keras layout, dbias: (C)
// TF's transpose sizes: 'valid' H = (OH-1)*sh + (KH-1)*dh + 1 (+ output_padding), pads 0;
// 'same' H = OH*sh, pads from same_padding(H, KH, sh, dh) (the forward conv's 'same' rule).
// ----------------------------------------------------------------------------------------------
//
// Threads: the pool splits work into blocks whose boundaries depend only on the shapes, so the
// result does not depend on the thread count or on scheduling (bit-for-bit for a given build).
// Memory: im2col blocks and partial sums come from per-thread grow-only scratch, bounded to
// about 1 MB per thread for the column blocks and 16 MB for filter-gradient partial sums.
#pragma once
#include <cstdint>

#include "cpu/conv_shape.h"
#include "cpu/gemm.h"
#include "cpu/pool.h"

namespace gf {


// Output length of one spatial axis; <= 0 means the kernel does not fit (caller rejects).
inline int64_t conv_output_size(int64_t in, int64_t k, int64_t stride, int64_t dilation,
                                int64_t pad_before, int64_t pad_after) {
  const int64_t span = in + pad_before + pad_after - ((k - 1) * dilation + 1);
  return span < 0 ? 0 : span / stride + 1;
}

// TF's 'same' padding: output = ceil(in / stride), pad_before = total / 2 (the extra zero, if
// any, goes after).
inline void same_padding(int64_t in, int64_t k, int64_t stride, int64_t dilation,
                         int64_t* pad_before, int64_t* pad_after) {
  const int64_t out = (in + stride - 1) / stride;
  int64_t total = (out - 1) * stride + (k - 1) * dilation + 1 - in;
  if (total < 0) total = 0;
  *pad_before = total / 2;
  *pad_after = total - total / 2;
}

// act (relu) is applied with the bias as the GEMM stores each tile of y (gemm.h's epilogue).
template <typename T>
void conv2d_forward(const Conv2dShape& s, const T* x, const T* w, const T* bias, T* y,
                    GemmActivation act = GemmActivation::Linear);
// Inference: maxpool2d (no argmax) of conv2d_forward's output y, without y in memory. p is the
// pooling of y (p.N, p.H, p.W, p.C = s.N, s.OH, s.OW, s.O); out: (N, p.OH, p.OW, O). Each
// thread computes a band of conv rows at a time into a buffer that stays in cache and pools
// it; the result is bit for bit that of conv2d_forward then maxpool2d_forward.
template <typename T>
void conv2d_maxpool2d_forward(const Conv2dShape& s, const Pool2dShape& p, const T* x,
                              const T* w, const T* bias, T* out, GemmActivation act);
template <typename T>
void conv2d_backward_input(const Conv2dShape& s, const T* dy, const T* w, T* dx);
template <typename T>
void conv2d_backward_filter(const Conv2dShape& s, const T* x, const T* dy, T* dw, T* dbias);

template <typename T>
void conv2d_transpose_forward(const Conv2dShape& s, const T* x, const T* w, const T* bias,
                              T* y);
template <typename T>
void conv2d_transpose_backward_input(const Conv2dShape& s, const T* dy, const T* w, T* dx);
template <typename T>
void conv2d_transpose_backward_filter(const Conv2dShape& s, const T* x, const T* dy, T* dw,
                                      T* dbias);

#define GF_CONV_DECLARE(T)                                                                   \
  extern template void conv2d_forward<T>(const Conv2dShape&, const T*, const T*, const T*,   \
                                         T*, GemmActivation);                                \
  extern template void conv2d_maxpool2d_forward<T>(const Conv2dShape&, const Pool2dShape&,   \
                                                   const T*, const T*, const T*, T*,         \
                                                   GemmActivation);                          \
  extern template void conv2d_backward_input<T>(const Conv2dShape&, const T*, const T*, T*); \
  extern template void conv2d_backward_filter<T>(const Conv2dShape&, const T*, const T*, T*, \
                                                 T*);                                        \
  extern template void conv2d_transpose_forward<T>(const Conv2dShape&, const T*, const T*,   \
                                                   const T*, T*);                            \
  extern template void conv2d_transpose_backward_input<T>(const Conv2dShape&, const T*,      \
                                                          const T*, T*);                     \
  extern template void conv2d_transpose_backward_filter<T>(const Conv2dShape&, const T*,     \
                                                           const T*, T*, T*);
GF_CONV_DECLARE(float)
GF_CONV_DECLARE(double)
#undef GF_CONV_DECLARE

}  // namespace gf

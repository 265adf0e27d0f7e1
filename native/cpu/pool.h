// 2-D pooling and upsampling kernels on NHWC activations.
// It is: max/average pooling (window, strides, explicit padding) forward and backward, global
// average/max pooling, and UpSampling2D (nearest, bilinear) forward and backward. It is not:
// validation or policy ('same'/'valid', output sizes): lib and the binding compute those.
//
// ---- Binding contract (what native/binding will wrap) -------------------------------------
// Pool2dShape: x: (N, H, W, C) -> y: (N, OH, OW, C); window KH x KW, strides sh, sw; the
// window of output (oh, ow) starts at input row oh*sh - pad_top, column ow*sw - pad_left.
// Padding is never a value: windows only look at the input elements they cover (TF's 'same'):
//   'valid': OH = (H - KH) / sh + 1, pads 0.
//   'same' : OH = ceil(H / sh), pad_top = max((OH-1)*sh + KH - H, 0) / 2 (same_padding() in
//            conv.h with dilation 1).
// Every output is overwritten completely; no caller zeroing is needed.
//
//   maxpool2d_forward<T>(s, x, y, argmax)      argmax: int32 (N, OH, OW, C), the input position
//                                              ih*W + iw of each max inside its image; first
//                                              max in (kh, kw) order wins, NaN wins; a window
//                                              with no input element gives y = -Inf, index -1.
//                                              argmax null: y only (inference).
//   maxpool2d_backward<T>(s, dy, argmax, dx)   dx: (N, H, W, C)
//   avgpool2d_forward<T>(s, x, y)              mean over the covered input elements only
//   avgpool2d_backward<T>(s, dy, dx)
//   global_avgpool2d_forward<T>(N, HW, C, x, y)          x: (N, H*W, C) -> y: (N, C)
//   global_avgpool2d_backward<T>(N, HW, C, dy, dx)
//   global_maxpool2d_forward<T>(N, HW, C, x, y, argmax)  argmax: int32 (N, C) in [0, HW)
//   global_maxpool2d_backward<T>(N, HW, C, dy, argmax, dx)
//   upsampling2d_forward<T>(N, H, W, C, sh, sw, mode, x, y)   y: (N, H*sh, W*sw, C)
//   upsampling2d_backward<T>(N, H, W, C, sh, sw, mode, dy, dx)
// Global pooling needs HW >= 1; sh, sw >= 1.
// The backward passes read each argmax entry once and skip one outside its image ([0, H*W)
// or [0, HW)): the binding has checked them, but an array in shared memory can change after
// the check, and a kernel never writes where an index it did not compute points.
// UpsampleMode::Nearest repeats each pixel sh x sw times (Keras UpSampling2D 'nearest').
// UpsampleMode::Bilinear is tf.image.resize(method='bilinear', antialias=False), i.e.
// TF's ResizeBilinear with half_pixel_centers=True, align_corners=False: source coordinate
// (i + 0.5) / s - 0.5, neighbours clamped to the edge. That is what Keras 3 UpSampling2D
// (keras.ops.image.resize) and tf.keras 2 (backend.resize_images -> tf.image.resize) compute.
// UpsampleMode::BilinearLegacy is half_pixel_centers=False (source i / s), what
// TensorFlow.js's upSampling2d computes (tf.image.resizeBilinear defaults).
// ----------------------------------------------------------------------------------------------
// Threads: forward kernels split over output rows; backward kernels over images (scatters
// into dx never race), except the gather-shaped global and nearest backward passes.
#pragma once
#include <cstdint>

namespace gf {

struct Pool2dShape {
  int64_t N, H, W, C;         // x: (N, H, W, C)
  int64_t KH, KW;             // window
  int64_t OH, OW;             // y: (N, OH, OW, C)
  int64_t sh, sw;             // strides
  int64_t pad_top, pad_left;  // window origin offset; pads after are implied by OH, OW
};

enum class UpsampleMode { Nearest, Bilinear, BilinearLegacy };
// "nearest" | "bilinear" | "bilinearLegacy"
bool upsample_mode_from_name(const char* name, UpsampleMode* mode);

template <typename T>
void maxpool2d_forward(const Pool2dShape& s, const T* x, T* y, int32_t* argmax);
// maxpool2d_forward without argmax on the calling thread only (inside another kernel's work).
template <typename T>
void maxpool2d_forward_serial(const Pool2dShape& s, const T* x, T* y);
template <typename T>
void maxpool2d_backward(const Pool2dShape& s, const T* dy, const int32_t* argmax, T* dx);
template <typename T>
void avgpool2d_forward(const Pool2dShape& s, const T* x, T* y);
template <typename T>
void avgpool2d_backward(const Pool2dShape& s, const T* dy, T* dx);

template <typename T>
void global_avgpool2d_forward(int64_t N, int64_t HW, int64_t C, const T* x, T* y);
template <typename T>
void global_avgpool2d_backward(int64_t N, int64_t HW, int64_t C, const T* dy, T* dx);
template <typename T>
void global_maxpool2d_forward(int64_t N, int64_t HW, int64_t C, const T* x, T* y,
                              int32_t* argmax);
template <typename T>
void global_maxpool2d_backward(int64_t N, int64_t HW, int64_t C, const T* dy,
                               const int32_t* argmax, T* dx);

template <typename T>
void upsampling2d_forward(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh, int64_t sw,
                          UpsampleMode mode, const T* x, T* y);
template <typename T>
void upsampling2d_backward(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh, int64_t sw,
                           UpsampleMode mode, const T* dy, T* dx);

#define GF_POOL_DECLARE(T)                                                                    \
  extern template void maxpool2d_forward<T>(const Pool2dShape&, const T*, T*, int32_t*);      \
  extern template void maxpool2d_forward_serial<T>(const Pool2dShape&, const T*, T*);         \
  extern template void maxpool2d_backward<T>(const Pool2dShape&, const T*, const int32_t*,    \
                                             T*);                                             \
  extern template void avgpool2d_forward<T>(const Pool2dShape&, const T*, T*);                \
  extern template void avgpool2d_backward<T>(const Pool2dShape&, const T*, T*);               \
  extern template void global_avgpool2d_forward<T>(int64_t, int64_t, int64_t, const T*, T*);  \
  extern template void global_avgpool2d_backward<T>(int64_t, int64_t, int64_t, const T*, T*); \
  extern template void global_maxpool2d_forward<T>(int64_t, int64_t, int64_t, const T*, T*,   \
                                                   int32_t*);                                 \
  extern template void global_maxpool2d_backward<T>(int64_t, int64_t, int64_t, const T*,      \
                                                    const int32_t*, T*);                      \
  extern template void upsampling2d_forward<T>(int64_t, int64_t, int64_t, int64_t, int64_t,   \
                                               int64_t, UpsampleMode, const T*, T*);          \
  extern template void upsampling2d_backward<T>(int64_t, int64_t, int64_t, int64_t, int64_t,  \
                                                int64_t, UpsampleMode, const T*, T*);
GF_POOL_DECLARE(float)
GF_POOL_DECLARE(double)
#undef GF_POOL_DECLARE

}  // namespace gf

// Pooling and upsampling on NHWC: every inner loop runs over the contiguous channel axis.
// See pool.h for the contract. Global average pooling is the mean reduction of reduce.h over
// (N, H*W, C). Not here: validation, output-size policy.
#include "cpu/pool.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "cpu/cpu_features.h"
#include "cpu/pool_isa.h"
#include "cpu/reduce.h"
#include "cpu/threadpool.h"

namespace gf {
namespace {

constexpr int64_t kGrainElems = 1 << 15;  // rough elements touched per parallel chunk

inline int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, work_per_item));
}

// The work of one output row, as a product that saturates: a window may be far larger than
// the image it covers (only the covered part is read), so its raw size can overflow int64.
inline int64_t row_work(const Pool2dShape& s, int64_t rows) {
  int64_t w = 1;
  for (int64_t f : {rows, s.OW, std::min(s.KH, s.H), std::min(s.KW, s.W), s.C})
    if (__builtin_mul_overflow(w, f, &w)) return INT64_MAX;
  return w;
}

// An index a caller handed in, read exactly once. The array may live in shared memory that
// another thread writes meanwhile, so the value checked must be the value used: a relaxed
// atomic load (a plain mov on x86) forbids the compiler to read it twice.
inline int32_t read_index(const int32_t* p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

// Input rows [h0, h1) covered by a window starting at `start` of length k, clipped to [0, n).
inline void clip_window(int64_t start, int64_t k, int64_t n, int64_t* lo, int64_t* hi) {
  *lo = std::max<int64_t>(start, 0);
  *hi = std::min<int64_t>(start + k, n);
}

// Bilinear source neighbours of output index i, TF's ResizeBilinear rule.
struct Lerp {
  int64_t lo, hi;
  double t;  // weight of hi
};
inline Lerp lerp_coef(int64_t i, int64_t in, int64_t out, bool half_pixel) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double src = half_pixel ? (static_cast<double>(i) + 0.5) * scale - 0.5
                                : static_cast<double>(i) * scale;
  const double f = std::floor(src);
  Lerp l;
  l.lo = std::max<int64_t>(static_cast<int64_t>(f), 0);
  l.hi = std::min<int64_t>(static_cast<int64_t>(std::ceil(src)), in - 1);
  l.t = src - f;
  return l;
}

}  // namespace

bool upsample_mode_from_name(const char* name, UpsampleMode* mode) {
  if (std::strcmp(name, "nearest") == 0) *mode = UpsampleMode::Nearest;
  else if (std::strcmp(name, "bilinear") == 0) *mode = UpsampleMode::Bilinear;
  else if (std::strcmp(name, "bilinearLegacy") == 0) *mode = UpsampleMode::BilinearLegacy;
  else return false;
  return true;
}

// ---- max / average pooling -------------------------------------------------------------------

// WITH_ARGMAX false (inference: no backward will follow) compares values only, half the
// stores and a loop the compiler vectorizes with fewer instructions.
template <typename T, bool WITH_ARGMAX>
void maxpool2d_rows_portable(const Pool2dShape& s, const T* x, T* y, int32_t* argmax, int64_t i0,
                             int64_t i1) {
  const int64_t C = s.C;
  {
    for (int64_t i = i0; i < i1; ++i) {  // i = n*OH + oh
      const int64_t n = i / s.OH, oh = i % s.OH;
      int64_t h0, h1;
      clip_window(oh * s.sh - s.pad_top, s.KH, s.H, &h0, &h1);
      for (int64_t ow = 0; ow < s.OW; ++ow) {
        T* __restrict yo = y + (i * s.OW + ow) * C;
        int32_t* __restrict ao = WITH_ARGMAX ? argmax + (i * s.OW + ow) * C : nullptr;
        int64_t w0, w1;
        clip_window(ow * s.sw - s.pad_left, s.KW, s.W, &w0, &w1);
        bool first = true;
        for (int64_t ih = h0; ih < h1; ++ih) {
          for (int64_t iw = w0; iw < w1; ++iw) {
            const int32_t pos = static_cast<int32_t>(ih * s.W + iw);
            const T* __restrict xi = x + ((n * s.H + ih) * s.W + iw) * C;
            if (first) {
              for (int64_t c = 0; c < C; ++c) yo[c] = xi[c];
              if constexpr (WITH_ARGMAX)
                for (int64_t c = 0; c < C; ++c) ao[c] = pos;
              first = false;
              continue;
            }
            for (int64_t c = 0; c < C; ++c) {  // branch-free so it vectorizes
              const T v = xi[c], b = yo[c];
              const bool take = (v > b) | ((v != v) & (b == b));
              yo[c] = take ? v : b;
              if constexpr (WITH_ARGMAX) ao[c] = take ? pos : ao[c];
            }
          }
        }
        if (first) {  // the window covers no input element
          for (int64_t c = 0; c < C; ++c) yo[c] = -std::numeric_limits<T>::infinity();
          if constexpr (WITH_ARGMAX)
            for (int64_t c = 0; c < C; ++c) ao[c] = -1;
        }
      }
    }
  }
}

// Output rows [i0, i1) of max pooling without argmax, in the best version this CPU runs.
template <typename T>
void maxpool2d_value_rows(const Pool2dShape& s, const T* x, T* y, int64_t i0, int64_t i1) {
  if constexpr (std::is_same_v<T, float>) {
    const GemmKernel isa = current_gemm_kernel();
    if (isa == GemmKernel::Avx512) return maxpool2d_rows_avx512_f32(s, x, y, i0, i1);
    if (isa == GemmKernel::Avx2) return maxpool2d_rows_avx2_f32(s, x, y, i0, i1);
  }
  maxpool2d_rows_portable<T, false>(s, x, y, nullptr, i0, i1);
}

// The same with argmax (training).
template <typename T>
void maxpool2d_argmax_rows(const Pool2dShape& s, const T* x, T* y, int32_t* argmax, int64_t i0, int64_t i1) {
  if constexpr (std::is_same_v<T, float>) {
    const GemmKernel isa = current_gemm_kernel();
    if (isa == GemmKernel::Avx512) return maxpool2d_argmax_rows_avx512_f32(s, x, y, argmax, i0, i1);
    if (isa == GemmKernel::Avx2) return maxpool2d_argmax_rows_avx2_f32(s, x, y, argmax, i0, i1);
  }
  maxpool2d_rows_portable<T, true>(s, x, y, argmax, i0, i1);
}

// Windows that do not overlap go down and across in order (each band starts at or after the
// previous one's end), so the gaps between them are the uncovered pixels. Adjacent windows
// (KW == sw: the tutorial's 2x2 /2) leave a gap only after the last one, found without walking
// the windows of every row (that walk cost a tenth of a 26x26x32 backward).
void maxpool2d_zero_uncovered(const Pool2dShape& s, float* dxn) {
  const int64_t C = s.C, W = s.W, row_floats = W * C;
  const bool adjacent = s.KW == s.sw;
  const int64_t last_end = std::min<int64_t>(W, (s.OW - 1) * s.sw - s.pad_left + s.KW);
  int64_t row = 0;  // rows above it are done
  for (int64_t oh = 0; oh < s.OH; ++oh) {
    int64_t h0, h1;
    clip_window(oh * s.sh - s.pad_top, s.KH, s.H, &h0, &h1);
    if (h0 >= h1) continue;
    if (h0 > row) std::memset(dxn + row * row_floats, 0, sizeof(float) * (h0 - row) * row_floats);
    for (int64_t ih = h0; ih < h1; ++ih) {
      float* r = dxn + ih * row_floats;
      int64_t col = adjacent ? std::max<int64_t>(0, last_end) : 0;
      for (int64_t ow = 0; ow < s.OW && !adjacent; ++ow) {
        int64_t w0, w1;
        clip_window(ow * s.sw - s.pad_left, s.KW, W, &w0, &w1);
        if (w0 >= w1) continue;
        if (w0 > col) std::memset(r + col * C, 0, sizeof(float) * (w0 - col) * C);
        col = w1;
      }
      if (col < W) std::memset(r + col * C, 0, sizeof(float) * (W - col) * C);
    }
    row = h1;
  }
  if (row < s.H) std::memset(dxn + row * row_floats, 0, sizeof(float) * (s.H - row) * row_floats);
}

template <typename T>
void maxpool2d_forward_serial(const Pool2dShape& s, const T* x, T* y) {
  maxpool2d_value_rows(s, x, y, 0, s.N * s.OH);
}

template <typename T>
void maxpool2d_forward(const Pool2dShape& s, const T* x, T* y, int32_t* argmax) {
  parallel_for(s.N * s.OH, grain_for(row_work(s, 1)), [&](int64_t i0, int64_t i1) {
    if (argmax) maxpool2d_argmax_rows(s, x, y, argmax, i0, i1);
    else maxpool2d_value_rows(s, x, y, i0, i1);
  });
}

template <typename T>
void maxpool2d_backward(const Pool2dShape& s, const T* dy, const int32_t* argmax, T* dx) {
  const int64_t C = s.C, hw = s.H * s.W, img_in = hw * C, img_out = s.OH * s.OW * C;
  auto images = [&](int64_t n0, int64_t n1) {
    if constexpr (std::is_same_v<T, float>) {
      const GemmKernel isa = current_gemm_kernel();
      if (isa == GemmKernel::Avx512) return maxpool2d_backward_images_avx512_f32(s, dy, argmax, dx, n0, n1);
      if (isa == GemmKernel::Avx2) return maxpool2d_backward_images_avx2_f32(s, dy, argmax, dx, n0, n1);
    }
    for (int64_t n = n0; n < n1; ++n) {
      T* dxn = dx + n * img_in;
      std::memset(dxn, 0, sizeof(T) * img_in);
      const T* g = dy + n * img_out;
      const int32_t* a = argmax + n * img_out;
      for (int64_t p = 0; p < s.OH * s.OW; ++p, g += C, a += C)
        for (int64_t c = 0; c < C; ++c) {
          const int32_t at = read_index(a + c);
          if (at >= 0 && at < hw) dxn[at * C + c] += g[c];  // -1: a window with no input
        }
    }
  };
  parallel_for(s.N, grain_for(img_in + img_out), images);
}

template <typename T>
void avgpool2d_forward(const Pool2dShape& s, const T* x, T* y) {
  const int64_t C = s.C;
  auto rows = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t n = i / s.OH, oh = i % s.OH;
      int64_t h0, h1;
      clip_window(oh * s.sh - s.pad_top, s.KH, s.H, &h0, &h1);
      for (int64_t ow = 0; ow < s.OW; ++ow) {
        T* yo = y + (i * s.OW + ow) * C;
        int64_t w0, w1;
        clip_window(ow * s.sw - s.pad_left, s.KW, s.W, &w0, &w1);
        for (int64_t c = 0; c < C; ++c) yo[c] = T(0);
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) {
            const T* xi = x + ((n * s.H + ih) * s.W + iw) * C;
            for (int64_t c = 0; c < C; ++c) yo[c] += xi[c];
          }
        const int64_t count = std::max<int64_t>(0, h1 - h0) * std::max<int64_t>(0, w1 - w0);
        const T inv = count > 0 ? T(1) / static_cast<T>(count) : T(0);
        for (int64_t c = 0; c < C; ++c) yo[c] *= inv;
      }
    }
  };
  parallel_for(s.N * s.OH, grain_for(row_work(s, 1)), rows);
}

template <typename T>
void avgpool2d_backward(const Pool2dShape& s, const T* dy, T* dx) {
  const int64_t C = s.C, img_in = s.H * s.W * C;
  auto images = [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      T* dxn = dx + n * img_in;
      std::memset(dxn, 0, sizeof(T) * img_in);
      for (int64_t oh = 0; oh < s.OH; ++oh) {
        int64_t h0, h1;
        clip_window(oh * s.sh - s.pad_top, s.KH, s.H, &h0, &h1);
        for (int64_t ow = 0; ow < s.OW; ++ow) {
          int64_t w0, w1;
          clip_window(ow * s.sw - s.pad_left, s.KW, s.W, &w0, &w1);
          const int64_t count = std::max<int64_t>(0, h1 - h0) * std::max<int64_t>(0, w1 - w0);
          if (count == 0) continue;
          const T inv = T(1) / static_cast<T>(count);
          const T* g = dy + ((n * s.OH + oh) * s.OW + ow) * C;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) {
              T* d = dxn + (ih * s.W + iw) * C;
              for (int64_t c = 0; c < C; ++c) d[c] += g[c] * inv;
            }
        }
      }
    }
  };
  parallel_for(s.N, grain_for(row_work(s, s.OH)), images);
}

// ---- global pooling --------------------------------------------------------------------------

template <typename T>
void global_avgpool2d_forward(int64_t N, int64_t HW, int64_t C, const T* x, T* y) {
  reduce<T>(ReduceOp::Mean, x, N, HW, C, y);
}

template <typename T>
void global_avgpool2d_backward(int64_t N, int64_t HW, int64_t C, const T* dy, T* dx) {
  const T inv = T(1) / static_cast<T>(HW);
  auto rows = [&](int64_t i0, int64_t i1) {  // i = n*HW + p
    for (int64_t i = i0; i < i1; ++i) {
      const T* g = dy + (i / HW) * C;
      T* d = dx + i * C;
      for (int64_t c = 0; c < C; ++c) d[c] = g[c] * inv;
    }
  };
  parallel_for(N * HW, grain_for(C), rows);
}

template <typename T>
void global_maxpool2d_forward(int64_t N, int64_t HW, int64_t C, const T* x, T* y,
                              int32_t* argmax) {
  auto images = [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      T* yo = y + n * C;
      int32_t* ao = argmax + n * C;
      const T* xn = x + n * HW * C;
      for (int64_t c = 0; c < C; ++c) { yo[c] = xn[c]; ao[c] = 0; }
      for (int64_t p = 1; p < HW; ++p) {
        const T* xi = xn + p * C;
        for (int64_t c = 0; c < C; ++c) {
          const T v = xi[c], b = yo[c];
          const bool take = (v > b) | ((v != v) & (b == b));
          yo[c] = take ? v : b;
          ao[c] = take ? static_cast<int32_t>(p) : ao[c];
        }
      }
    }
  };
  parallel_for(N, grain_for(HW * C), images);
}

template <typename T>
void global_maxpool2d_backward(int64_t N, int64_t HW, int64_t C, const T* dy,
                               const int32_t* argmax, T* dx) {
  auto images = [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      T* dxn = dx + n * HW * C;
      std::memset(dxn, 0, sizeof(T) * HW * C);
      for (int64_t c = 0; c < C; ++c) {
        const int32_t at = read_index(argmax + n * C + c);
        if (at >= 0 && at < HW) dxn[at * C + c] = dy[n * C + c];
      }
    }
  };
  parallel_for(N, grain_for(HW * C), images);
}

// ---- upsampling ------------------------------------------------------------------------------

template <typename T>
void upsampling2d_forward(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh, int64_t sw,
                          UpsampleMode mode, const T* x, T* y) {
  const int64_t OH = H * sh, OW = W * sw;
  if (mode == UpsampleMode::Nearest) {
    auto rows = [&](int64_t i0, int64_t i1) {  // i = n*OH + oh
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t n = i / OH, ih = (i % OH) / sh;
        const T* xr = x + (n * H + ih) * W * C;
        T* yr = y + i * OW * C;
        for (int64_t iw = 0; iw < W; ++iw)
          for (int64_t j = 0; j < sw; ++j) std::memcpy(yr + (iw * sw + j) * C, xr + iw * C, sizeof(T) * C);
      }
    };
    parallel_for(N * OH, grain_for(OW * C), rows);
    return;
  }
  const bool half_pixel = mode == UpsampleMode::Bilinear;
  auto rows = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t n = i / OH;
      const Lerp ly = lerp_coef(i % OH, H, OH, half_pixel);
      const T* top = x + (n * H + ly.lo) * W * C;
      const T* bot = x + (n * H + ly.hi) * W * C;
      T* yr = y + i * OW * C;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const Lerp lx = lerp_coef(ow, W, OW, half_pixel);
        const T wy = static_cast<T>(ly.t), wx = static_cast<T>(lx.t);
        const T *tl = top + lx.lo * C, *tr = top + lx.hi * C;
        const T *bl = bot + lx.lo * C, *br = bot + lx.hi * C;
        T* yo = yr + ow * C;
        for (int64_t c = 0; c < C; ++c) {
          const T t = tl[c] + (tr[c] - tl[c]) * wx;
          const T b = bl[c] + (br[c] - bl[c]) * wx;
          yo[c] = t + (b - t) * wy;
        }
      }
    }
  };
  parallel_for(N * OH, grain_for(OW * C * 4), rows);
}

template <typename T>
void upsampling2d_backward(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh, int64_t sw,
                           UpsampleMode mode, const T* dy, T* dx) {
  const int64_t OH = H * sh, OW = W * sw;
  if (mode == UpsampleMode::Nearest) {  // gather: each dx pixel sums its sh x sw block
    auto rows = [&](int64_t i0, int64_t i1) {  // i = n*H + ih
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t n = i / H, ih = i % H;
        T* dr = dx + i * W * C;
        std::memset(dr, 0, sizeof(T) * W * C);
        for (int64_t a = 0; a < sh; ++a) {
          const T* g = dy + (n * OH + ih * sh + a) * OW * C;
          for (int64_t iw = 0; iw < W; ++iw)
            for (int64_t b = 0; b < sw; ++b) {
              const T* gi = g + (iw * sw + b) * C;
              T* d = dr + iw * C;
              for (int64_t c = 0; c < C; ++c) d[c] += gi[c];
            }
        }
      }
    };
    parallel_for(N * H, grain_for(sh * OW * C), rows);
    return;
  }
  const bool half_pixel = mode == UpsampleMode::Bilinear;
  auto images = [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      T* dxn = dx + n * H * W * C;
      std::memset(dxn, 0, sizeof(T) * H * W * C);
      for (int64_t oh = 0; oh < OH; ++oh) {
        const Lerp ly = lerp_coef(oh, H, OH, half_pixel);
        T* top = dxn + ly.lo * W * C;
        T* bot = dxn + ly.hi * W * C;
        const T* gr = dy + (n * OH + oh) * OW * C;
        const T wy = static_cast<T>(ly.t);
        for (int64_t ow = 0; ow < OW; ++ow) {
          const Lerp lx = lerp_coef(ow, W, OW, half_pixel);
          const T wx = static_cast<T>(lx.t);
          const T w_tl = (1 - wy) * (1 - wx), w_tr = (1 - wy) * wx;
          const T w_bl = wy * (1 - wx), w_br = wy * wx;
          const T* g = gr + ow * C;
          T *tl = top + lx.lo * C, *tr = top + lx.hi * C;
          T *bl = bot + lx.lo * C, *br = bot + lx.hi * C;
          for (int64_t c = 0; c < C; ++c) {
            const T v = g[c];
            tl[c] += v * w_tl;
            tr[c] += v * w_tr;
            bl[c] += v * w_bl;
            br[c] += v * w_br;
          }
        }
      }
    }
  };
  parallel_for(N, grain_for(OH * OW * C * 4), images);
}

#define GF_POOL_INSTANTIATE(T)                                                                \
  template void maxpool2d_forward<T>(const Pool2dShape&, const T*, T*, int32_t*);             \
  template void maxpool2d_backward<T>(const Pool2dShape&, const T*, const int32_t*, T*);      \
  template void avgpool2d_forward<T>(const Pool2dShape&, const T*, T*);                       \
  template void avgpool2d_backward<T>(const Pool2dShape&, const T*, T*);                      \
  template void global_avgpool2d_forward<T>(int64_t, int64_t, int64_t, const T*, T*);         \
  template void global_avgpool2d_backward<T>(int64_t, int64_t, int64_t, const T*, T*);        \
  template void maxpool2d_forward_serial<T>(const Pool2dShape&, const T*, T*);                  \
  template void global_maxpool2d_forward<T>(int64_t, int64_t, int64_t, const T*, T*,          \
                                            int32_t*);                                        \
  template void global_maxpool2d_backward<T>(int64_t, int64_t, int64_t, const T*,             \
                                             const int32_t*, T*);                             \
  template void upsampling2d_forward<T>(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, \
                                        UpsampleMode, const T*, T*);                          \
  template void upsampling2d_backward<T>(int64_t, int64_t, int64_t, int64_t, int64_t,         \
                                         int64_t, UpsampleMode, const T*, T*);
GF_POOL_INSTANTIATE(float)
GF_POOL_INSTANTIATE(double)

}  // namespace gf

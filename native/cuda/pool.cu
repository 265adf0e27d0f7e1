// Pooling and upsampling kernels and launchers (contract in cuda/pool.h).
// It is: one thread per output element for the window forwards and the upsampling forwards
// (grid-stride, 64-bit indices; consecutive threads take consecutive channels, so loads are
// coalesced on NHWC), one thread per dx element for every backward pass, which finds the
// outputs that read its element by division (windows, nearest blocks) or by scanning a small
// fixed range of candidates (bilinear: +-2 source pixels' worth of outputs), and adds their
// contributions in the order the CPU's scatter does. The global poolings reduce each
// (image, channel) over HW with 32 channels x 8 row lanes a block: double sums for the mean,
// and for the max a (value, index) selection that is associative and commutative (NaN beats
// numbers, equal values and NaNs go to the lower index), so the lane split cannot change
// which element wins. It is not: vectorised (float4) or shared-memory tiled; the window
// kernels re-read overlapping inputs through the cache.
#include "cuda/pool.h"

#include <math.h>

#include <algorithm>

#include "cuda/check.h"
#include "cuda/launch.h"
#include "cuda/warp.h"

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace pool_impl {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 8192;  // enough to fill any current GPU; the loops cover more

#define GF_POOL_FOR_EACH(i, total)                                                     \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (total); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// The CPU's rule: v replaces the running max b when greater, or when v is the first NaN.
__device__ __forceinline__ bool takes(float v, float b) { return v > b || (v != v && b == b); }

// Window rows [lo, hi) of output index o along one axis, clipped to the input.
__device__ __forceinline__ void clip(int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t n,
                                     int64_t* lo, int64_t* hi) {
  const int64_t start = o * stride - pad;
  *lo = start > 0 ? start : 0;
  *hi = start + k < n ? start + k : n;
}

// The outputs [lo, hi] along one axis whose windows cover input index i.
__device__ __forceinline__ void covering(int64_t i, int64_t stride, int64_t pad, int64_t k,
                                         int64_t outs, int64_t* lo, int64_t* hi) {
  const int64_t first = i + pad - k + 1;  // o*stride >= first
  *lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  const int64_t last = (i + pad) / stride;
  *hi = last < outs - 1 ? last : outs - 1;
}

// Output element i = (n, oh, ow, c) of a window pooling, and its window clipped to the input:
// rows [h0, h1), columns [w0, w1).
struct Window {
  int64_t n, c, h0, h1, w0, w1;
};
__device__ __forceinline__ Window window_of(const Pool2dShape& s, int64_t i) {
  const int64_t ow = (i / s.C) % s.OW, oh = (i / (s.C * s.OW)) % s.OH;
  Window v;
  v.c = i % s.C;
  v.n = i / (s.C * s.OW * s.OH);
  clip(oh, s.sh, s.pad_top, s.KH, s.H, &v.h0, &v.h1);
  clip(ow, s.sw, s.pad_left, s.KW, s.W, &v.w0, &v.w1);
  return v;
}

// Input element i = (n, ih, iw, c), and the outputs [oh0, oh1] x [ow0, ow1] whose windows
// cover it.
struct Cover {
  int64_t n, ih, iw, c, oh0, oh1, ow0, ow1;
};
__device__ __forceinline__ Cover cover_of(const Pool2dShape& s, int64_t i) {
  Cover v;
  v.c = i % s.C;
  v.iw = (i / s.C) % s.W;
  v.ih = (i / (s.C * s.W)) % s.H;
  v.n = i / (s.C * s.W * s.H);
  covering(v.ih, s.sh, s.pad_top, s.KH, s.OH, &v.oh0, &v.oh1);
  covering(v.iw, s.sw, s.pad_left, s.KW, s.OW, &v.ow0, &v.ow1);
  return v;
}

__global__ void maxpool_forward_kernel(Pool2dShape s, const float* x, float* y, int32_t* argmax) {
  const int64_t total = s.N * s.OH * s.OW * s.C;
  GF_POOL_FOR_EACH(i, total) {
    const Window q = window_of(s, i);
    float best = -INFINITY;
    int32_t at = -1;
    for (int64_t ih = q.h0; ih < q.h1; ++ih)
      for (int64_t iw = q.w0; iw < q.w1; ++iw) {
        const float v = x[((q.n * s.H + ih) * s.W + iw) * s.C + q.c];
        if (at < 0 || takes(v, best)) {
          best = v;
          at = static_cast<int32_t>(ih * s.W + iw);
        }
      }
    y[i] = best;
    if (argmax) argmax[i] = at;
  }
}

// dx element (n, ih, iw, c) sums dy over the covering windows whose argmax names it, in
// (oh, ow) order as the CPU scatters.
__global__ void maxpool_backward_kernel(Pool2dShape s, const float* dy, const int32_t* argmax,
                                        float* dx) {
  const int64_t total = s.N * s.H * s.W * s.C;
  GF_POOL_FOR_EACH(i, total) {
    const Cover q = cover_of(s, i);
    const int32_t pos = static_cast<int32_t>(q.ih * s.W + q.iw);
    float acc = 0.0f;
    for (int64_t oh = q.oh0; oh <= q.oh1; ++oh)
      for (int64_t ow = q.ow0; ow <= q.ow1; ++ow) {
        const int64_t o = ((q.n * s.OH + oh) * s.OW + ow) * s.C + q.c;
        if (argmax[o] == pos) acc += dy[o];
      }
    dx[i] = acc;
  }
}

__global__ void avgpool_forward_kernel(Pool2dShape s, const float* x, float* y) {
  const int64_t total = s.N * s.OH * s.OW * s.C;
  GF_POOL_FOR_EACH(i, total) {
    const Window q = window_of(s, i);
    float sum = 0.0f;
    for (int64_t ih = q.h0; ih < q.h1; ++ih)
      for (int64_t iw = q.w0; iw < q.w1; ++iw) sum += x[((q.n * s.H + ih) * s.W + iw) * s.C + q.c];
    const int64_t count = (q.h1 > q.h0 ? q.h1 - q.h0 : 0) * (q.w1 > q.w0 ? q.w1 - q.w0 : 0);
    y[i] = sum * (count > 0 ? 1.0f / static_cast<float>(count) : 0.0f);
  }
}

__global__ void avgpool_backward_kernel(Pool2dShape s, const float* dy, float* dx) {
  const int64_t total = s.N * s.H * s.W * s.C;
  GF_POOL_FOR_EACH(i, total) {
    const Cover q = cover_of(s, i);
    float acc = 0.0f;
    for (int64_t oh = q.oh0; oh <= q.oh1; ++oh) {
      int64_t h0, h1;
      clip(oh, s.sh, s.pad_top, s.KH, s.H, &h0, &h1);
      for (int64_t ow = q.ow0; ow <= q.ow1; ++ow) {
        int64_t w0, w1;
        clip(ow, s.sw, s.pad_left, s.KW, s.W, &w0, &w1);
        const float inv = 1.0f / static_cast<float>((h1 - h0) * (w1 - w0));  // covers i: >= 1
        acc += dy[((q.n * s.OH + oh) * s.OW + ow) * s.C + q.c] * inv;
      }
    }
    dx[i] = acc;
  }
}

constexpr int kCols = 32, kLanes = 8;  // global pooling block: 32 channels x 8 row lanes

__global__ void global_avg_forward_kernel(int64_t N, int64_t HW, int64_t C, const float* x, float* y) {
  __shared__ double red[kLanes][kCols];
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  for (int64_t n = blockIdx.y; n < N; n += gridDim.y)
    for (int64_t c0 = static_cast<int64_t>(blockIdx.x) * kCols; c0 < C;
         c0 += static_cast<int64_t>(gridDim.x) * kCols) {
      const int64_t c = c0 + tx;
      double acc = 0.0;
      if (c < C)
        for (int64_t p = ty; p < HW; p += kLanes) acc += x[(n * HW + p) * C + c];
      const double t = sum_lanes(red, acc);  // ends with a barrier: red is free for the next chunk
      if (ty == 0 && c < C) y[n * C + c] = static_cast<float>(t / static_cast<double>(HW));
    }
}

__global__ void global_avg_backward_kernel(int64_t N, int64_t HW, int64_t C, const float* dy, float* dx) {
  const float inv = 1.0f / static_cast<float>(HW);
  GF_POOL_FOR_EACH(i, N * HW * C) dx[i] = dy[(i / (HW * C)) * C + i % C] * inv;
}

// Whether candidate (v, p) beats the held (b, q) (q < 0: nothing held): NaN beats numbers,
// then the larger value, and among equal values (or NaNs) the lower index, which is the CPU's
// sequential "first max, first NaN" winner whatever order the candidates come in.
__device__ __forceinline__ bool beats(float v, int64_t p, float b, int64_t q) {
  if (q < 0) return true;
  const bool vn = v != v, bn = b != b;
  if (vn != bn) return vn;
  if (vn || v == b) return p < q;
  return v > b;
}

__global__ void global_max_forward_kernel(int64_t N, int64_t HW, int64_t C, const float* x, float* y,
                                          int32_t* argmax) {
  __shared__ float rv[kLanes][kCols];
  __shared__ int64_t ri[kLanes][kCols];
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  for (int64_t n = blockIdx.y; n < N; n += gridDim.y)
    for (int64_t c0 = static_cast<int64_t>(blockIdx.x) * kCols; c0 < C;
         c0 += static_cast<int64_t>(gridDim.x) * kCols) {
      const int64_t c = c0 + tx;
      float b = -INFINITY;
      int64_t q = -1;
      if (c < C)
        for (int64_t p = ty; p < HW; p += kLanes) {
          const float v = x[(n * HW + p) * C + c];
          if (beats(v, p, b, q)) {
            b = v;
            q = p;
          }
        }
      rv[ty][tx] = b;
      ri[ty][tx] = q;
      __syncthreads();
      if (ty == 0 && c < C) {
        for (int l = 1; l < kLanes; ++l)
          if (ri[l][tx] >= 0 && beats(rv[l][tx], ri[l][tx], b, q)) {
            b = rv[l][tx];
            q = ri[l][tx];
          }
        y[n * C + c] = b;
        if (argmax) argmax[n * C + c] = static_cast<int32_t>(q);
      }
      __syncthreads();  // rv, ri are rewritten by the next chunk
    }
}

__global__ void global_max_backward_kernel(int64_t N, int64_t HW, int64_t C, const float* dy,
                                           const int32_t* argmax, float* dx) {
  GF_POOL_FOR_EACH(i, N * HW * C) {
    const int64_t c = i % C, p = (i / C) % HW, n = i / (C * HW);
    dx[i] = argmax[n * C + c] == p ? dy[n * C + c] : 0.0f;
  }
}

enum Mode { kNearest = 0, kBilinear = 1, kBilinearLegacy = 2 };

// TF ResizeBilinear's source neighbours of output index i, computed as the CPU does (double).
struct Lerp {
  int64_t lo, hi;
  double t;  // weight of hi
};
__device__ __forceinline__ Lerp lerp_coef(int64_t i, int64_t in, int64_t out, bool half_pixel) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double src = half_pixel ? (static_cast<double>(i) + 0.5) * scale - 0.5
                                : static_cast<double>(i) * scale;
  const double f = floor(src);
  Lerp l;
  l.lo = static_cast<int64_t>(f) > 0 ? static_cast<int64_t>(f) : 0;
  const int64_t c = static_cast<int64_t>(ceil(src));
  l.hi = c < in - 1 ? c : in - 1;
  l.t = src - f;
  return l;
}

__global__ void upsample_forward_kernel(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh,
                                        int64_t sw, int mode, const float* x, float* y) {
  const int64_t OH = H * sh, OW = W * sw;
  GF_POOL_FOR_EACH(i, N * OH * OW * C) {
    const int64_t c = i % C, ow = (i / C) % OW, oh = (i / (C * OW)) % OH, n = i / (C * OW * OH);
    const float* xn = x + n * H * W * C + c;
    if (mode == kNearest) {
      y[i] = xn[((oh / sh) * W + ow / sw) * C];
      continue;
    }
    const bool hp = mode == kBilinear;
    const Lerp ly = lerp_coef(oh, H, OH, hp), lx = lerp_coef(ow, W, OW, hp);
    const float wy = static_cast<float>(ly.t), wx = static_cast<float>(lx.t);
    const float tl = xn[(ly.lo * W + lx.lo) * C], tr = xn[(ly.lo * W + lx.hi) * C];
    const float bl = xn[(ly.hi * W + lx.lo) * C], br = xn[(ly.hi * W + lx.hi) * C];
    const float t = tl + (tr - tl) * wx;
    const float b = bl + (br - bl) * wx;
    y[i] = t + (b - t) * wy;
  }
}

// dx element (n, ih, iw, c): nearest sums its sh x sw block of dy (rows, then columns, as the
// CPU); bilinear visits, in (oh, ow) order, every output within two source pixels' worth of
// outputs (the only ones whose neighbours can include ih, iw, edges clamped included) and adds
// dy times the weight of each corner role (tl, tr, bl, br, the CPU's order) that names it.
__global__ void upsample_backward_kernel(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh,
                                         int64_t sw, int mode, const float* dy, float* dx) {
  const int64_t OH = H * sh, OW = W * sw;
  GF_POOL_FOR_EACH(i, N * H * W * C) {
    const int64_t c = i % C, iw = (i / C) % W, ih = (i / (C * W)) % H, n = i / (C * W * H);
    const float* g = dy + n * OH * OW * C + c;
    float acc = 0.0f;
    if (mode == kNearest) {
      for (int64_t a = 0; a < sh; ++a)
        for (int64_t b = 0; b < sw; ++b) acc += g[((ih * sh + a) * OW + iw * sw + b) * C];
      dx[i] = acc;
      continue;
    }
    const bool hp = mode == kBilinear;
    const int64_t oh0 = ih >= 2 ? (ih - 2) * sh : 0, oh1 = ih + 3 < H ? (ih + 3) * sh : OH;
    const int64_t ow0 = iw >= 2 ? (iw - 2) * sw : 0, ow1 = iw + 3 < W ? (iw + 3) * sw : OW;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      const Lerp ly = lerp_coef(oh, H, OH, hp);
      if (ly.lo != ih && ly.hi != ih) continue;
      const float wy = static_cast<float>(ly.t);
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        const Lerp lx = lerp_coef(ow, W, OW, hp);
        if (lx.lo != iw && lx.hi != iw) continue;
        const float wx = static_cast<float>(lx.t);
        const float v = g[(oh * OW + ow) * C];
        if (ly.lo == ih && lx.lo == iw) acc += v * ((1 - wy) * (1 - wx));
        if (ly.lo == ih && lx.hi == iw) acc += v * ((1 - wy) * wx);
        if (ly.hi == ih && lx.lo == iw) acc += v * (wy * (1 - wx));
        if (ly.hi == ih && lx.hi == iw) acc += v * (wy * wx);
      }
    }
    dx[i] = acc;
  }
}

#undef GF_POOL_FOR_EACH

dim3 global_grid(int64_t N, int64_t C) {
  const int64_t gx = std::min<int64_t>((C + kCols - 1) / kCols, 1024);
  const int64_t gy = std::min<int64_t>(N, 65535);
  return dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy));
}

int mode_id(UpsampleMode m) {
  return m == UpsampleMode::Nearest ? kNearest : m == UpsampleMode::Bilinear ? kBilinear : kBilinearLegacy;
}

}  // namespace
}  // namespace pool_impl

cudaError_t maxpool2d_forward(const Pool2dShape& s, const float* x, float* y, int32_t* argmax,
                              cudaStream_t stream) {
  using namespace pool_impl;
  return launch_grid(maxpool_forward_kernel, s.N * s.OH * s.OW * s.C, kThreads, kMaxBlocks, stream, s, x, y,
                     argmax);
}

cudaError_t maxpool2d_backward(const Pool2dShape& s, const float* dy, const int32_t* argmax,
                               float* dx, cudaStream_t stream) {
  using namespace pool_impl;
  return launch_grid(maxpool_backward_kernel, s.N * s.H * s.W * s.C, kThreads, kMaxBlocks, stream, s, dy,
                     argmax, dx);
}

cudaError_t avgpool2d_forward(const Pool2dShape& s, const float* x, float* y, cudaStream_t stream) {
  using namespace pool_impl;
  return launch_grid(avgpool_forward_kernel, s.N * s.OH * s.OW * s.C, kThreads, kMaxBlocks, stream, s, x, y);
}

cudaError_t avgpool2d_backward(const Pool2dShape& s, const float* dy, float* dx, cudaStream_t stream) {
  using namespace pool_impl;
  return launch_grid(avgpool_backward_kernel, s.N * s.H * s.W * s.C, kThreads, kMaxBlocks, stream, s, dy, dx);
}

cudaError_t global_avgpool2d_forward(int64_t N, int64_t HW, int64_t C, const float* x, float* y,
                                     cudaStream_t stream) {
  using namespace pool_impl;
  if (N <= 0 || C <= 0) return cudaSuccess;
  using Kernel = void (*)(int64_t, int64_t, int64_t, const float*, float*);
  const Kernel k = global_avg_forward_kernel;
  GF_LAUNCH(k, global_grid(N, C), dim3(kCols, kLanes), stream, N, HW, C, x, y);
  return cudaGetLastError();
}

cudaError_t global_avgpool2d_backward(int64_t N, int64_t HW, int64_t C, const float* dy,
                                      float* dx, cudaStream_t stream) {
  using namespace pool_impl;
  return launch_grid(global_avg_backward_kernel, N * HW * C, kThreads, kMaxBlocks, stream, N, HW, C, dy, dx);
}

cudaError_t global_maxpool2d_forward(int64_t N, int64_t HW, int64_t C, const float* x, float* y,
                                     int32_t* argmax, cudaStream_t stream) {
  using namespace pool_impl;
  if (N <= 0 || C <= 0) return cudaSuccess;
  using Kernel = void (*)(int64_t, int64_t, int64_t, const float*, float*, int32_t*);
  const Kernel k = global_max_forward_kernel;
  GF_LAUNCH(k, global_grid(N, C), dim3(kCols, kLanes), stream, N, HW, C, x, y, argmax);
  return cudaGetLastError();
}

cudaError_t global_maxpool2d_backward(int64_t N, int64_t HW, int64_t C, const float* dy,
                                      const int32_t* argmax, float* dx, cudaStream_t stream) {
  using namespace pool_impl;
  return launch_grid(global_max_backward_kernel, N * HW * C, kThreads, kMaxBlocks, stream, N, HW, C, dy,
                     argmax, dx);
}

cudaError_t upsampling2d_forward(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh,
                                 int64_t sw, UpsampleMode mode, const float* x, float* y,
                                 cudaStream_t stream) {
  using namespace pool_impl;
  return launch_grid(upsample_forward_kernel, N * H * sh * W * sw * C, kThreads, kMaxBlocks, stream, N, H, W,
                     C, sh, sw, mode_id(mode), x, y);
}

cudaError_t upsampling2d_backward(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh,
                                  int64_t sw, UpsampleMode mode, const float* dy, float* dx,
                                  cudaStream_t stream) {
  using namespace pool_impl;
  return launch_grid(upsample_backward_kernel, N * H * W * C, kThreads, kMaxBlocks, stream, N, H, W, C, sh,
                     sw, mode_id(mode), dy, dx);
}

}  // namespace cuda
}  // namespace gf

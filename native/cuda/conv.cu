// Conv2d kernels and launchers (contract in cuda/conv.h).
// It is: im2col (row r = (n, oh, ow) of the flattened output, column k = (kh, kw, c), the
// order of w's (KH, KW, C) rows, so w is the K x O right-hand matrix as stored), a col2im that
// gathers for each input element the im2col entries that read it (its taps are found by
// division, so each dx element is one thread's fixed-order sum: no atomics, deterministic),
// and a two-stage column sum for the bias gradient (fixed row blocks, double partials added in
// block order). The launchers walk the R = N*OH*OW output rows in chunks whose im2col matrix
// fits conv_workspace_limit(); chunk boundaries depend only on the shape and the limit, so
// results are the same run to run. All index math is 64-bit; kernels are grid-stride loops.
// It is not: an implicit-GEMM or Winograd kernel (the explicit im2col costs memory traffic,
// bounded by the chunking), or fused with pooling.
#include "cuda/conv.h"

#include <algorithm>
#include <atomic>

#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/gemm.h"
#include "cuda/launch.h"
#include "cuda/warp.h"

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace conv_impl {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 8192;  // enough to fill any current GPU; the loops cover more

std::atomic<std::size_t> g_workspace_limit{std::size_t(64) << 20};

// col[(r - r0), k] for rows r0 .. r0 + rows - 1 of the im2col matrix (K = KH*KW*C columns).
__global__ void im2col_kernel(Conv2dShape s, const float* x, int64_t r0, int64_t rows,
                              float* col) {
  const int64_t K = s.KH * s.KW * s.C, total = rows * K;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const int64_t r = r0 + i / K, k = i % K;
    const int64_t c = k % s.C, kw = (k / s.C) % s.KW, kh = k / (s.C * s.KW);
    const int64_t ow = r % s.OW, oh = (r / s.OW) % s.OH, n = r / (s.OW * s.OH);
    const int64_t ih = oh * s.sh - s.pad_top + kh * s.dh;
    const int64_t iw = ow * s.sw - s.pad_left + kw * s.dw;
    float v = 0.0f;
    if (ih >= 0 && ih < s.H && iw >= 0 && iw < s.W) v = x[((n * s.H + ih) * s.W + iw) * s.C + c];
    col[i] = v;
  }
}

// For every dx element of images n0 .. n1 - 1: the sum of the dcol entries of rows
// [r0, r0 + rows) that read it, written when this chunk holds the image's first output row
// (the first chunk to touch it), added otherwise. A tap reads input row ih from output row oh
// when ih = oh*sh - pad_top + kh*dh, i.e. oh = (ih + pad_top - kh*dh) / sh exactly.
__global__ void col2im_kernel(Conv2dShape s, const float* dcol, int64_t r0, int64_t rows,
                              int64_t n0, int64_t n1, float* dx) {
  const int64_t K = s.KH * s.KW * s.C, img = s.H * s.W * s.C, per_img = s.OH * s.OW;
  const int64_t total = (n1 - n0) * img, r1 = r0 + rows;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const int64_t e = n0 * img + i;
    const int64_t c = e % s.C, iw = (e / s.C) % s.W, ih = (e / (s.C * s.W)) % s.H, n = e / img;
    float acc = 0.0f;
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      const int64_t th = ih + s.pad_top - kh * s.dh;
      if (th < 0 || th % s.sh != 0) continue;
      const int64_t oh = th / s.sh;
      if (oh >= s.OH) continue;
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        const int64_t tw = iw + s.pad_left - kw * s.dw;
        if (tw < 0 || tw % s.sw != 0) continue;
        const int64_t ow = tw / s.sw;
        if (ow >= s.OW) continue;
        const int64_t r = (n * s.OH + oh) * s.OW + ow;
        if (r < r0 || r >= r1) continue;
        acc += dcol[(r - r0) * K + (kh * s.KW + kw) * s.C + c];
      }
    }
    dx[e] = n * per_img >= r0 ? acc : dx[e] + acc;
  }
}

constexpr int kSumCols = 32, kSumLanes = 8;  // column-sum block: 32 columns x 8 row lanes
constexpr int64_t kSumRowsPerBlock = 1024;
constexpr int64_t kSumMaxRowBlocks = 128;

// part[b, o] = sum of dy[r, o] over row block b (rows b*R/B .. (b+1)*R/B), in double: each
// lane sums a fixed stride of rows, the lanes are added in lane order.
__global__ void colsum_partial_kernel(const float* dy, int64_t R, int64_t O, int64_t blocks,
                                      double* part) {
  __shared__ double red[kSumLanes][kSumCols];
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  for (int64_t b = blockIdx.y; b < blocks; b += gridDim.y) {
    const int64_t ra = b * R / blocks, rb = (b + 1) * R / blocks;
    for (int64_t o0 = static_cast<int64_t>(blockIdx.x) * kSumCols; o0 < O;
         o0 += static_cast<int64_t>(gridDim.x) * kSumCols) {
      const int64_t o = o0 + tx;
      double acc = 0.0;
      if (o < O)
        for (int64_t r = ra + ty; r < rb; r += kSumLanes) acc += dy[r * O + o];
      const double t = sum_lanes(red, acc);  // ends with a barrier: red is free for the next chunk
      if (ty == 0 && o < O) part[b * O + o] = t;
    }
  }
}

__global__ void colsum_final_kernel(const double* part, int64_t blocks, int64_t O, float* out) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < O; o += stride) {
    double t = 0.0;
    for (int64_t b = 0; b < blocks; ++b) t += part[b * O + o];
    out[o] = static_cast<float>(t);
  }
}

// out (O) = column sums of dy (R, O); R == 0 gives zeros.
cudaError_t column_sum(const float* dy, int64_t R, int64_t O, float* out, cudaStream_t stream) {
  if (O <= 0) return cudaSuccess;
  const int64_t blocks = std::max<int64_t>(
      1, std::min<int64_t>(kSumMaxRowBlocks, (R + kSumRowsPerBlock - 1) / kSumRowsPerBlock));
  DeviceBuffer part;
  Status st = part.allocate(static_cast<std::size_t>(blocks * O) * sizeof(double), stream);
  if (!st.ok()) return st.code;
  const int64_t gx = std::min<int64_t>((O + kSumCols - 1) / kSumCols, 1024);
  const dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(blocks));
  using Partial = void (*)(const float*, int64_t, int64_t, int64_t, double*);
  const Partial kp = colsum_partial_kernel;
  GF_LAUNCH(kp, grid, dim3(kSumCols, kSumLanes), stream, dy, R, O, blocks, part.as<double>());
  GF_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  GF_CUDA_RETURN_IF_ERROR(launch_grid(colsum_final_kernel, O, kThreads, kMaxBlocks, stream,
                                      static_cast<const double*>(part.as<double>()), blocks, O, out));
  return part.release().code;
}

// x is its own im2col matrix (R x C): 1x1 taps, unit strides, no padding.
bool is_pointwise(const Conv2dShape& s) {
  return s.KH == 1 && s.KW == 1 && s.sh == 1 && s.sw == 1 && s.pad_top == 0 && s.pad_left == 0 &&
         s.OH == s.H && s.OW == s.W;
}

// Output rows per im2col chunk: as many as fit the workspace limit, at least one.
int64_t chunk_rows(int64_t R, int64_t K) {
  const int64_t per_row = std::max<int64_t>(1, K) * static_cast<int64_t>(sizeof(float));
  const int64_t fit = static_cast<int64_t>(g_workspace_limit.load()) / per_row;
  return std::max<int64_t>(1, std::min<int64_t>(R, fit));
}

// step(r0, rows, buf) for the R output rows in chunks of chunk_rows(R, K), in order, with one
// workspace buf of chunk x K floats for all; the first error stops the walk.
template <class Step>
cudaError_t for_each_chunk(int64_t R, int64_t K, cudaStream_t stream, Step step) {
  const int64_t chunk = chunk_rows(R, K);
  DeviceBuffer buf;
  Status st = buf.allocate(static_cast<std::size_t>(chunk * K) * sizeof(float), stream);
  if (!st.ok()) return st.code;
  for (int64_t r0 = 0; r0 < R; r0 += chunk)
    GF_CUDA_RETURN_IF_ERROR(step(r0, std::min(chunk, R - r0), buf.as<float>()));
  return buf.release().code;
}

cudaError_t im2col(const Conv2dShape& s, const float* x, int64_t r0, int64_t rows, float* col,
                   cudaStream_t stream) {
  return launch_grid(im2col_kernel, rows * s.KH * s.KW * s.C, kThreads, kMaxBlocks, stream, s, x, r0, rows,
                     col);
}

}  // namespace
}  // namespace conv_impl

void set_conv_workspace_limit(std::size_t bytes) { conv_impl::g_workspace_limit.store(bytes); }
std::size_t conv_workspace_limit() { return conv_impl::g_workspace_limit.load(); }

cudaError_t conv2d_forward(const Conv2dShape& s, const float* x, const float* w,
                           const float* bias, float* y, GemmActivation act, cudaStream_t stream) {
  using namespace conv_impl;
  const int64_t R = s.N * s.OH * s.OW, K = s.KH * s.KW * s.C;
  if (R <= 0 || s.O <= 0) return cudaSuccess;
  GemmEpilogue<float> epi;
  epi.bias = bias;
  epi.act = act;
  if (is_pointwise(s)) return gemm(false, false, R, s.O, K, 1.0f, x, K, w, s.O, 0.0f, y, s.O, epi, stream);
  return for_each_chunk(R, K, stream, [&](int64_t r0, int64_t rows, float* col) {
    GF_CUDA_RETURN_IF_ERROR(im2col(s, x, r0, rows, col, stream));
    return gemm(false, false, rows, s.O, K, 1.0f, col, K, w, s.O, 0.0f, y + r0 * s.O, s.O, epi, stream);
  });
}

cudaError_t conv2d_backward_input(const Conv2dShape& s, const float* dy, const float* w,
                                  float* dx, cudaStream_t stream) {
  using namespace conv_impl;
  const int64_t R = s.N * s.OH * s.OW, K = s.KH * s.KW * s.C;
  if (s.N <= 0 || s.C <= 0) return cudaSuccess;
  // dcol (R x K) = dy (R x O) * w^T; the pointwise dcol is dx itself.
  if (is_pointwise(s)) return gemm(false, true, R, K, s.O, 1.0f, dy, s.O, w, s.O, 0.0f, dx, K, stream);
  const int64_t per_img = s.OH * s.OW;
  return for_each_chunk(R, K, stream, [&](int64_t r0, int64_t rows, float* dcol) {
    GF_CUDA_RETURN_IF_ERROR(gemm(false, true, rows, K, s.O, 1.0f, dy + r0 * s.O, s.O, w, s.O, 0.0f, dcol, K,
                                 stream));
    // The images whose output rows this chunk holds; each dx element of them gathers from it.
    const int64_t n0 = r0 / per_img, n1 = (r0 + rows - 1) / per_img + 1;
    return launch_grid(col2im_kernel, (n1 - n0) * s.H * s.W * s.C, kThreads, kMaxBlocks, stream, s,
                       static_cast<const float*>(dcol), r0, rows, n0, n1, dx);
  });
}

cudaError_t conv2d_backward_filter(const Conv2dShape& s, const float* x, const float* dy,
                                   float* dw, float* dbias, cudaStream_t stream) {
  using namespace conv_impl;
  const int64_t R = s.N * s.OH * s.OW, K = s.KH * s.KW * s.C;
  if (s.O <= 0) return cudaSuccess;
  if (dbias) GF_CUDA_RETURN_IF_ERROR(column_sum(dy, R, s.O, dbias, stream));
  if (K <= 0) return cudaSuccess;
  // dw (K x O) = col^T (K x R) * dy (R x O), chunk by chunk with beta = 1 after the first;
  // R == 0 is one product with no inner dimension: dw = 0.
  if (R <= 0 || is_pointwise(s))
    return gemm(true, false, K, s.O, R, 1.0f, x, K, dy, s.O, 0.0f, dw, s.O, stream);
  return for_each_chunk(R, K, stream, [&](int64_t r0, int64_t rows, float* col) {
    GF_CUDA_RETURN_IF_ERROR(im2col(s, x, r0, rows, col, stream));
    return gemm(true, false, K, s.O, rows, 1.0f, col, K, dy + r0 * s.O, s.O, r0 == 0 ? 0.0f : 1.0f, dw, s.O,
                stream);
  });
}

}  // namespace cuda
}  // namespace gf

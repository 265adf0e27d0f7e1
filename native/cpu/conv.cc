// conv2d and conv2dTranspose on the CPU: im2col (NHWC) + GEMM, GEMM + col2im, and the filter
// gradient as GEMMs over row blocks of the im2col matrix. See conv.h for the contract.
// The im2col matrix has one row per output pixel (n, oh, ow) and KH*KW*C columns ordered
// (kh, kw, c), which is exactly the Keras kernel [KH, KW, C, O] seen as a (KH*KW*C, O) matrix,
// so every product is a plain row-major GEMM with no weight reshuffling. It is not: a Winograd
// or FFT convolution, or a packer that feeds GEMM panels directly (gemm.h is the only entry).
#include "cpu/conv.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "cpu/conv_isa.h"
#include "cpu/cpu_features.h"
#include "cpu/gemm.h"
#include "cpu/reduce.h"
#include "cpu/scratch.h"
#include "cpu/threadpool.h"

namespace gf {
namespace {

// One im2col block per thread stays within about this many bytes (a share of L2), which also
// bounds per-thread memory whatever the batch size.
constexpr int64_t kColBudgetBytes = 1 << 20;
constexpr int64_t kMinBlockRows = 32, kMaxBlockRows = 4096;
// Filter-gradient partial sums: at most this many (independent of the thread count, so the
// summation order and thus the result are too), within this many bytes.
constexpr int64_t kMaxPartials = 16;
constexpr int64_t kPartialBudgetBytes = 16 << 20;

thread_local ScratchBuffer tl_col;       // im2col / dcol block of the running thread
thread_local ScratchBuffer tl_partials;  // filter-gradient partials, owned by the caller

template <typename T>
int64_t block_rows(int64_t kc) {
  int64_t r = kColBudgetBytes / (kc * static_cast<int64_t>(sizeof(T)));
  r = std::max(kMinBlockRows, std::min(kMaxBlockRows, r));
  return r / 8 * 8;
}

// 1x1 kernel, stride 1, no padding: the im2col matrix is x itself.
bool is_pointwise(const Conv2dShape& s) {
  return s.KH == 1 && s.KW == 1 && s.sh == 1 && s.sw == 1 && s.pad_top == 0 &&
         s.pad_left == 0 && s.OH == s.H && s.OW == s.W;
}

template <typename T>
inline void copy_n(const T* src, int64_t n, T* dst) {
  std::memcpy(dst, src, sizeof(T) * n);
}

template <typename T>
inline void add_n(const T* src, int64_t n, T* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// Output pixel of im2col row r.
struct RowPos {
  int64_t n, oh, ow;
};
inline RowPos row_pos(const Conv2dShape& s, int64_t r) {
  const int64_t per_image = s.OH * s.OW, rem = r % per_image;
  return {r / per_image, rem / s.OW, rem % s.OW};
}
inline void next_row(const Conv2dShape& s, RowPos& p) {
  if (++p.ow == s.OW) {
    p.ow = 0;
    if (++p.oh == s.OH) {
      p.oh = 0;
      ++p.n;
    }
  }
}

// Copies `count` runs of K values: run i from src + i * src_step to dst + i * dst_step. K known
// at compile time turns each run into a few moves (first layers: K = 3 for one channel, 9 for
// three), where a counted copy per run would cost more than the copy itself.
template <typename T, int K>
void copy_runs(const T* src, int64_t src_step, T* dst, int64_t dst_step, int64_t count) {
  for (int64_t i = 0; i < count; ++i, src += src_step, dst += dst_step)
    for (int k = 0; k < K; ++k) dst[k] = src[k];
}

template <typename T>
void copy_runs(const T* src, int64_t src_step, T* dst, int64_t dst_step, int64_t count, int64_t n) {
  switch (n) {
    case 1: return copy_runs<T, 1>(src, src_step, dst, dst_step, count);
    case 3: return copy_runs<T, 3>(src, src_step, dst, dst_step, count);
    case 9: return copy_runs<T, 9>(src, src_step, dst, dst_step, count);
    default:
      for (int64_t i = 0; i < count; ++i, src += src_step, dst += dst_step) copy_n(src, n, dst);
  }
}

// col: rows [r0, r1) of the im2col matrix, (r1 - r0, KH*KW*C), out-of-input taps as 0.
// x: (N, H, W, C). Works a run of output pixels of one output row at a time, so the pixels
// whose KW taps all lie inside the input (all but the padded edges) are one strided copy.
template <typename T>
void im2col_rows(const Conv2dShape& s, const T* x, int64_t r0, int64_t r1, T* col) {
  const int64_t C = s.C, KWC = s.KW * C, rowlen = s.W * C, kc = s.KH * KWC;
  RowPos p = row_pos(s, r0);
  for (int64_t r = r0; r < r1;) {
    const int64_t run = std::min(s.OW - p.ow, r1 - r);
    const T* xn = x + p.n * s.H * rowlen;
    const int64_t ih0 = p.oh * s.sh - s.pad_top;
    // output pixels [in_lo, in_hi) of the run have all KW taps inside the input's width
    int64_t in_lo = run, in_hi = run;
    if (s.dw == 1) {
      for (int64_t i = 0; i < run; ++i) {
        const int64_t iw0 = (p.ow + i) * s.sw - s.pad_left;
        if (iw0 >= 0 && iw0 + s.KW - 1 < s.W) {
          if (in_lo == run) in_lo = i;
          in_hi = i + 1;
        }
      }
    }
    T* dst_run = col + (r - r0) * kc;
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      const int64_t ih = ih0 + kh * s.dh;
      T* dst = dst_run + kh * KWC;
      if (ih < 0 || ih >= s.H) {
        for (int64_t i = 0; i < run; ++i) std::memset(dst + i * kc, 0, sizeof(T) * KWC);
        continue;
      }
      const T* xrow = xn + ih * rowlen;
      if (in_hi > in_lo) {
        const int64_t iw0 = (p.ow + in_lo) * s.sw - s.pad_left;
        copy_runs(xrow + iw0 * C, s.sw * C, dst + in_lo * kc, kc, in_hi - in_lo, KWC);
      }
      for (int64_t i = 0; i < run; ++i) {
        if (i >= in_lo && i < in_hi) continue;
        const int64_t iw0 = (p.ow + i) * s.sw - s.pad_left;
        T* d = dst + i * kc;
        for (int64_t kw = 0; kw < s.KW; ++kw) {
          const int64_t iw = iw0 + kw * s.dw;
          if (iw < 0 || iw >= s.W) {
            for (int64_t c = 0; c < C; ++c) d[kw * C + c] = T(0);
          } else {
            copy_n(xrow + iw * C, C, d + kw * C);
          }
        }
      }
    }
    r += run;
    for (int64_t i = 0; i < run; ++i) next_row(s, p);
  }
}

// The adjoint of im2col_rows: dx[...] += col[...] for every in-input tap of rows [r0, r1).
template <typename T>
void col2im_rows(const Conv2dShape& s, const T* col, int64_t r0, int64_t r1, T* dx) {
  const int64_t C = s.C, KWC = s.KW * C, rowlen = s.W * C;
  RowPos p = row_pos(s, r0);
  for (int64_t r = r0; r < r1; ++r, next_row(s, p)) {
    T* dxn = dx + p.n * s.H * rowlen;
    const int64_t ih0 = p.oh * s.sh - s.pad_top, iw0 = p.ow * s.sw - s.pad_left;
    const bool cols_inside = iw0 >= 0 && iw0 + (s.KW - 1) * s.dw < s.W;
    const T* src = col + (r - r0) * s.KH * KWC;
    for (int64_t kh = 0; kh < s.KH; ++kh, src += KWC) {
      const int64_t ih = ih0 + kh * s.dh;
      if (ih < 0 || ih >= s.H) continue;
      T* dxrow = dxn + ih * rowlen;
      if (cols_inside && s.dw == 1) {
        add_n(src, KWC, dxrow + iw0 * C);
        continue;
      }
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        const int64_t iw = iw0 + kw * s.dw;
        if (iw >= 0 && iw < s.W) add_n(src + kw * C, C, dxrow + iw * C);
      }
    }
  }
}

// db[o] += sum over rows of d[r][o]. Runs of kSumRun rows are summed in T (vectorized, in
// order), then added to the double accumulators: a per-element double add cost as much as the
// whole filter-gradient GEMM of a first layer.
template <typename T>
void add_column_sums(const T* d, int64_t rows, int64_t O, double* db) {
  constexpr int64_t kSumRun = 64;
  constexpr int64_t kChunk = 256;  // columns per pass: the run's partial sums stay in L1
  T part[kChunk];
  for (int64_t o0 = 0; o0 < O; o0 += kChunk) {
    const int64_t w = std::min(kChunk, O - o0);
    for (int64_t r0 = 0; r0 < rows; r0 += kSumRun) {
      const int64_t r1 = std::min(rows, r0 + kSumRun);
      std::copy(d + r0 * O + o0, d + r0 * O + o0 + w, part);
      for (int64_t r = r0 + 1; r < r1; ++r) {
        const T* row = d + r * O + o0;
        for (int64_t o = 0; o < w; ++o) part[o] += row[o];
      }
      for (int64_t o = 0; o < w; ++o) db[o0 + o] += part[o];
    }
  }
}

template <typename T>
void add_bias_rows(T* y, int64_t rows, int64_t cols, const T* bias) {
  for (int64_t r = 0; r < rows; ++r, y += cols)
    for (int64_t o = 0; o < cols; ++o) y[o] += bias[o];
}

// dx = col2im(dy * w^T) (+ bias per channel when init_bias is given). Work is split over
// groups of whole images, so concurrent groups never write the same dx element.
template <typename T>
void backward_input_impl(const Conv2dShape& s, const T* dy, const T* w, const T* init_bias,
                         T* dx) {
  const int64_t kc = s.KH * s.KW * s.C, O = s.O, C = s.C;
  const int64_t img_rows = s.OH * s.OW, img_elems = s.H * s.W * C;
  if (s.N <= 0) return;
  const int64_t R = block_rows<T>(kc);

  if (is_pointwise(s)) {  // dx rows are the dcol rows
    const int64_t M = s.N * img_rows, nb = (M + R - 1) / R;
    auto body = [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t r0 = b * R, rows = std::min(R, M - r0);
        gemm<T>(false, true, rows, C, O, T(1), dy + r0 * O, O, w, O, T(0), dx + r0 * C, C);
        if (init_bias) add_bias_rows(dx + r0 * C, rows, C, init_bias);
      }
    };
    static AdaptiveParallel site;
    parallel_for(site, static_cast<double>(M) * C * O, nb, 1, body);
    return;
  }

  const int64_t per_group = std::max<int64_t>(1, R / std::max<int64_t>(1, img_rows));
  const int64_t groups = (s.N + per_group - 1) / per_group;
  auto body = [&](int64_t g0, int64_t g1) {
    const int64_t R_eff = std::min(R, per_group * img_rows);
    T* dcol = static_cast<T*>(tl_col.get(sizeof(T) * std::max<int64_t>(1, R_eff * kc)));
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t n0 = g * per_group, n1 = std::min(s.N, n0 + per_group);
      T* dxg = dx + n0 * img_elems;
      if (init_bias) {
        for (int64_t i = 0; i < (n1 - n0) * s.H * s.W; ++i) copy_n(init_bias, C, dxg + i * C);
      } else {
        std::memset(dxg, 0, sizeof(T) * (n1 - n0) * img_elems);
      }
      for (int64_t r0 = n0 * img_rows; r0 < n1 * img_rows; r0 += R_eff) {
        const int64_t r1 = std::min(n1 * img_rows, r0 + R_eff);
        // dcol: (rows, KH*KW*C) = dy rows (rows, O) x w^T (O, KH*KW*C)
        gemm<T>(false, true, r1 - r0, kc, O, T(1), dy + r0 * O, O, w, O, T(0), dcol, kc);
        col2im_rows(s, dcol, r0, r1, dx);
      }
    }
  };
  static AdaptiveParallel site;
  parallel_for(site, static_cast<double>(s.N) * img_rows * kc * O, groups, 1, body);
}


// At most this many taps (KH*KW*C) take the direct path on AVX-512 (first layers of one or
// three channels), where im2col + GEMM spends its time on the 9-27-column matrix.
constexpr int64_t kDirectMaxTaps = 32;

template <typename T>
bool direct_path(const Conv2dShape& s) {
  if constexpr (!std::is_same_v<T, float>) {
    (void)s;
    return false;
  } else {
    return s.KH * s.KW * s.C <= kDirectMaxTaps && !is_pointwise(s) &&
           current_gemm_kernel() == GemmKernel::Avx512;
  }
}

// Output pixels [r0, r1) of conv2d_forward into y (row r0 first): directly, or as im2col rows
// (into col, R rows at most) times w. Every path gives the same bits for a pixel whatever the
// range it is computed in (the GEMM's rows do not depend on M), so callers block freely.
template <typename T>
void forward_rows(const Conv2dShape& s, const T* x, const T* w, const GemmEpilogue<T>& epi,
                  bool direct, int64_t r0, int64_t r1, T* col, T* y) {
  const int64_t kc = s.KH * s.KW * s.C, O = s.O;
  if constexpr (std::is_same_v<T, float>) {
    if (direct)
      return conv2d_direct_rows_avx512_f32(s, x, w, epi.bias, epi.act == GemmActivation::Relu, r0, r1, y);
  }
  const T* a = col ? col : x + r0 * kc;  // pointwise: the im2col matrix is x
  if (col) im2col_rows(s, x, r0, r1, col);
  // y rows (rows, O) = col (rows, KH*KW*C) x w (KH*KW*C, O)
  gemm<T>(false, false, r1 - r0, O, kc, T(1), a, kc, w, O, T(0), y, O, epi);
}

}  // namespace

template <typename T>
void conv2d_forward(const Conv2dShape& s, const T* x, const T* w, const T* bias, T* y,
                    GemmActivation act) {
  GemmEpilogue<T> epi;
  epi.bias = bias;
  epi.act = act;
  const int64_t M = s.N * s.OH * s.OW, kc = s.KH * s.KW * s.C, O = s.O;
  if (M <= 0) return;
  const bool direct = direct_path<T>(s), uses_col = !direct && !is_pointwise(s);
  const int64_t R = block_rows<T>(kc), nb = (M + R - 1) / R;
  auto body = [&](int64_t b0, int64_t b1) {
    T* col = uses_col ? static_cast<T*>(tl_col.get(sizeof(T) * std::min(R, M) * kc)) : nullptr;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = b * R, r1 = std::min(M, r0 + R);
      forward_rows(s, x, w, epi, direct, r0, r1, col, y + r0 * O);
    }
  };
  static AdaptiveParallel site;
  parallel_for(site, static_cast<double>(M) * kc * O, nb, 1, body);
}

namespace {
// The conv output one band of a fused conv + pool keeps per thread: at most about this many
// bytes (with its im2col block and the weights, within L2), so the pool reads it from cache.
constexpr int64_t kBandBudgetBytes = 96 << 10;
thread_local ScratchBuffer tl_band;
}  // namespace

template <typename T>
void conv2d_maxpool2d_forward(const Conv2dShape& s, const Pool2dShape& p, const T* x,
                              const T* w, const T* bias, T* y, GemmActivation act) {
  GemmEpilogue<T> epi;
  epi.bias = bias;
  epi.act = act;
  if (s.N <= 0 || p.OH <= 0 || p.OW <= 0) return;
  const int64_t kc = s.KH * s.KW * s.C, O = s.O, row_bytes = s.OW * O * static_cast<int64_t>(sizeof(T));
  const bool direct = direct_path<T>(s), uses_col = !direct && !is_pointwise(s);
  // Pooled rows per band: the conv rows their windows cover fit the budget (at least one).
  const int64_t conv_rows_per_pooled = std::max<int64_t>(1, std::min(p.sh, p.KH));
  const int64_t band = std::max<int64_t>(1, std::min(p.OH, kBandBudgetBytes / (row_bytes * conv_rows_per_pooled)));
  const int64_t bands = (p.OH + band - 1) / band, R = block_rows<T>(kc);
  auto body = [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t n = u / bands, q0 = u % bands * band, q1 = std::min(p.OH, q0 + band);
      // conv rows [h0, h1) hold every window of pooled rows [q0, q1)
      const int64_t h0 = std::max<int64_t>(0, q0 * p.sh - p.pad_top);
      const int64_t h1 = std::max(h0, std::min(s.OH, (q1 - 1) * p.sh - p.pad_top + p.KH));
      const int64_t rows = (h1 - h0) * s.OW;  // conv output pixels of the band
      T* conv = static_cast<T*>(tl_band.get(sizeof(T) * std::max<int64_t>(1, rows * O)));
      T* col = uses_col ? static_cast<T*>(tl_col.get(sizeof(T) * std::min(R, std::max<int64_t>(1, rows)) * kc)) : nullptr;
      const int64_t first = (n * s.OH + h0) * s.OW;
      for (int64_t r = 0; r < rows; r += R)
        forward_rows(s, x, w, epi, direct, first + r, first + std::min(rows, r + R), col, conv + r * O);
      // The band as an image of h1 - h0 rows: the same windows, clipped the same way.
      Pool2dShape bp = p;
      bp.N = 1;
      bp.H = h1 - h0;
      bp.OH = q1 - q0;
      bp.pad_top = h0 + p.pad_top - q0 * p.sh;
      maxpool2d_forward_serial<T>(bp, conv, y + (n * p.OH + q0) * p.OW * O);
    }
  };
  static AdaptiveParallel site;
  parallel_for(site, static_cast<double>(s.N) * s.OH * s.OW * kc * O, s.N * bands, 1, body);
}

template <typename T>
void conv2d_backward_input(const Conv2dShape& s, const T* dy, const T* w, T* dx) {
  backward_input_impl<T>(s, dy, w, nullptr, dx);
}

template <typename T>
void conv2d_backward_filter(const Conv2dShape& s, const T* x, const T* dy, T* dw, T* dbias) {
  const int64_t M = s.N * s.OH * s.OW, kc = s.KH * s.KW * s.C, O = s.O, wsize = kc * O;
  if (M <= 0) {
    std::memset(dw, 0, sizeof(T) * wsize);
    if (dbias) std::memset(dbias, 0, sizeof(T) * O);
    return;
  }
  const bool pointwise = is_pointwise(s);
  const int64_t R = block_rows<T>(kc), nb = (M + R - 1) / R;
  // P partial sums over fixed runs of blocks; partial 0 is dw itself.
  const int64_t by_memory =
      std::max<int64_t>(1, kPartialBudgetBytes / (wsize * static_cast<int64_t>(sizeof(T))));
  const int64_t P = std::min({nb, kMaxPartials, by_memory});
  const size_t part_bytes = sizeof(T) * (P - 1) * wsize;
  char* scratch = static_cast<char*>(tl_partials.get(part_bytes + sizeof(double) * P * O + 64));
  T* partials = reinterpret_cast<T*>(scratch);
  double* dbias_parts = reinterpret_cast<double*>(scratch + (part_bytes + 63) / 64 * 64);

  const bool direct = direct_path<T>(s);
  auto body = [&](int64_t p0, int64_t p1) {
    T* col = pointwise || direct ? nullptr : static_cast<T*>(tl_col.get(sizeof(T) * std::min(R, M) * kc));
    for (int64_t p = p0; p < p1; ++p) {
      T* acc = p == 0 ? dw : partials + (p - 1) * wsize;
      double* db = dbias_parts + p * O;
      if (dbias) std::fill(db, db + O, 0.0);
      const int64_t bb0 = p * nb / P, bb1 = (p + 1) * nb / P;
      if constexpr (std::is_same_v<T, float>) {
        // the same partials over the same rows, without the 9-27-column im2col matrix
        if (direct) {
          conv2d_direct_filter_avx512_f32(s, x, dy, bb0 * R, std::min(M, bb1 * R), acc, dbias ? db : nullptr);
          continue;
        }
      }
      for (int64_t b = bb0; b < bb1; ++b) {
        const int64_t r0 = b * R, r1 = std::min(M, r0 + R);
        const T* a = pointwise ? x + r0 * kc : col;
        if (!pointwise) im2col_rows(s, x, r0, r1, col);
        // acc (KH*KW*C, O) (+)= col^T (KH*KW*C, rows) x dy rows (rows, O)
        gemm<T>(true, false, kc, O, r1 - r0, T(1), a, kc, dy + r0 * O, O,
                b == bb0 ? T(0) : T(1), acc, O);
        if (dbias) add_column_sums(dy + r0 * O, r1 - r0, O, db);
      }
    }
  };
  static AdaptiveParallel site;
  parallel_for(site, static_cast<double>(M) * kc * O, P, 1, body);

  if (P > 1) {  // dw += partials 1..P-1, in that order for every element
    auto sum = [&](int64_t i0, int64_t i1) {
      for (int64_t p = 1; p < P; ++p) add_n(partials + (p - 1) * wsize + i0, i1 - i0, dw + i0);
    };
    parallel_for(wsize, 1 << 14, sum);
  }
  if (dbias) {
    for (int64_t o = 0; o < O; ++o) {
      double t = 0;
      for (int64_t p = 0; p < P; ++p) t += dbias_parts[p * O + o];
      dbias[o] = static_cast<T>(t);
    }
  }
}

template <typename T>
void conv2d_transpose_forward(const Conv2dShape& s, const T* x, const T* w, const T* bias,
                              T* y) {
  backward_input_impl<T>(s, x, w, bias, y);
}

template <typename T>
void conv2d_transpose_backward_input(const Conv2dShape& s, const T* dy, const T* w, T* dx) {
  conv2d_forward<T>(s, dy, w, nullptr, dx);
}

template <typename T>
void conv2d_transpose_backward_filter(const Conv2dShape& s, const T* x, const T* dy, T* dw,
                                      T* dbias) {
  // The transpose's output gradient dy plays the forward conv's input, its input x the
  // forward conv's output gradient; the bias sits on the transpose's output channels (C).
  conv2d_backward_filter<T>(s, dy, x, dw, nullptr);
  if (dbias) reduce<T>(ReduceOp::Sum, dy, 1, s.N * s.H * s.W, s.C, dbias);
}

#define GF_CONV_INSTANTIATE(T)                                                                \
  template void conv2d_forward<T>(const Conv2dShape&, const T*, const T*, const T*, T*,       \
                                  GemmActivation);                                            \
  template void conv2d_backward_input<T>(const Conv2dShape&, const T*, const T*, T*);         \
  template void conv2d_backward_filter<T>(const Conv2dShape&, const T*, const T*, T*, T*);    \
  template void conv2d_transpose_forward<T>(const Conv2dShape&, const T*, const T*, const T*, \
                                            T*);                                              \
  template void conv2d_transpose_backward_input<T>(const Conv2dShape&, const T*, const T*,    \
                                                   T*);                                       \
  template void conv2d_transpose_backward_filter<T>(const Conv2dShape&, const T*, const T*,   \
                                                    T*, T*);                                  \
  template void conv2d_maxpool2d_forward<T>(const Conv2dShape&, const Pool2dShape&, const T*, \
                                            const T*, const T*, T*, GemmActivation);
GF_CONV_INSTANTIATE(float)
GF_CONV_INSTANTIATE(double)

}  // namespace gf

// Reference kernels (see ref.h). Written for obviousness: every output element is computed
// from its definition in double precision and rounded once to T. Instantiated for float and
// double (permute also for int32). Nothing here is tuned; tests keep problem sizes modest.
#include "ref/ref.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace gf {
namespace ref {

template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double a = transA ? A[k * lda + i] : A[i * lda + k];
        const double b = transB ? B[j * ldb + k] : B[k * ldb + j];
        s += a * b;
      }
      T& c = C[i * ldc + j];
      // alpha == 0 or K == 0: A and B are not referenced (BLAS); beta == 0: C is not read.
      const double ab = (alpha == T(0) || K == 0) ? 0.0 : double(alpha) * s;
      c = static_cast<T>(beta == T(0) ? ab : ab + double(beta) * double(c));
    }
  }
}

namespace {
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double softplus(double x) { return x > 30 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
double sgn(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : x); }

double unary1(UnaryOp op, double x, double a, double b) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return std::exp(x);
    case UnaryOp::Log: return std::log(x);
    case UnaryOp::Sqrt: return std::sqrt(x);
    case UnaryOp::Abs: return std::fabs(x);
    case UnaryOp::Square: return x * x;
    case UnaryOp::Reciprocal: return 1.0 / x;
    case UnaryOp::Sign: return sgn(x);
    case UnaryOp::Relu: return std::isnan(x) ? x : (x > 0 ? x : 0.0);
    case UnaryOp::LeakyRelu: return x > 0 ? x : a * x;
    case UnaryOp::Elu: return x > 0 ? x : a * (std::exp(x) - 1);
    case UnaryOp::Selu: return kSeluScale * (x > 0 ? x : kSeluAlpha * (std::exp(x) - 1));
    case UnaryOp::Sigmoid: return sigmoid(x);
    case UnaryOp::Tanh: return std::tanh(x);
    case UnaryOp::Softplus: return softplus(x);
    case UnaryOp::Clip: return x < a ? a : (x > b ? b : x);
    case UnaryOp::PowScalar: return std::pow(x, a);
    case UnaryOp::Scale: return a * x + b;
    case UnaryOp::Log1p: return std::log1p(x);
    case UnaryOp::LogSigmoid: return -softplus(-x);
  }
  return 0;
}

// f'(x), from x only.
double derivative(UnaryOp op, double x, double a, double b) {
  switch (op) {
    case UnaryOp::Neg: return -1;
    case UnaryOp::Exp: return std::exp(x);
    case UnaryOp::Log: return 1.0 / x;
    case UnaryOp::Sqrt: return 0.5 / std::sqrt(x);
    case UnaryOp::Abs: return sgn(x);
    case UnaryOp::Square: return 2 * x;
    case UnaryOp::Reciprocal: return -1.0 / (x * x);
    case UnaryOp::Sign: return 0;
    case UnaryOp::Relu: return x > 0 ? 1 : 0;
    case UnaryOp::LeakyRelu: return x > 0 ? 1 : a;
    case UnaryOp::Elu: return x > 0 ? 1 : a * std::exp(x);
    case UnaryOp::Selu: return x > 0 ? kSeluScale : kSeluScale * kSeluAlpha * std::exp(x);
    case UnaryOp::Sigmoid: return sigmoid(x) * (1 - sigmoid(x));
    case UnaryOp::Tanh: return 1 - std::tanh(x) * std::tanh(x);
    case UnaryOp::Softplus: return sigmoid(x);
    case UnaryOp::Clip: return (x >= a && x <= b) ? 1 : 0;
    case UnaryOp::PowScalar: return a == 0 ? 0 : a * std::pow(x, a - 1);
    case UnaryOp::Scale: return a;
    case UnaryOp::Log1p: return 1.0 / (1.0 + x);
    case UnaryOp::LogSigmoid: return 1 - sigmoid(x);
  }
  return 0;
}

double binary1(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
    case BinaryOp::Pow: return std::pow(a, b);
    case BinaryOp::Maximum: return (std::isnan(a) || std::isnan(b)) ? NAN : (a > b ? a : b);
    case BinaryOp::Minimum: return (std::isnan(a) || std::isnan(b)) ? NAN : (a < b ? a : b);
    case BinaryOp::Greater: return a > b;
    case BinaryOp::GreaterEqual: return a >= b;
    case BinaryOp::Less: return a < b;
    case BinaryOp::LessEqual: return a <= b;
    case BinaryOp::Equal: return a == b;
  }
  return 0;
}
}  // namespace

template <typename T>
void unary(UnaryOp op, const T* x, T* out, int64_t n, T alpha, T beta) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(unary1(op, x[i], alpha, beta));
}

template <typename T>
void unary_backward(UnaryOp op, const T* x, const T* dy, T* dx, int64_t n, T alpha, T beta) {
  for (int64_t i = 0; i < n; ++i)
    dx[i] = static_cast<T>(double(dy[i]) * derivative(op, x[i], alpha, beta));
}

template <typename T>
void binary(BinaryOp op, const T* a, const int64_t* aShape, int aRank, const T* b,
            const int64_t* bShape, int bRank, T* out, const int64_t* outShape, int outRank) {
  int64_t total = 1;
  for (int i = 0; i < outRank; ++i) total *= outShape[i];
  std::vector<int64_t> idx(outRank);
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t rem = flat;
    for (int d = outRank - 1; d >= 0; --d) {
      idx[d] = rem % outShape[d];
      rem /= outShape[d];
    }
    // Index into an operand: align from the right, size-1 dims read index 0.
    auto offset = [&](const int64_t* shape, int rank) {
      int64_t off = 0;
      for (int d = 0; d < rank; ++d) {
        const int64_t i = shape[d] == 1 ? 0 : idx[d + outRank - rank];
        off = off * shape[d] + i;
      }
      return off;
    };
    out[flat] = static_cast<T>(binary1(op, a[offset(aShape, aRank)], b[offset(bShape, bRank)]));
  }
}

template <typename T>
void reduce(ReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner, T* out) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      double acc = op == ReduceOp::Max ? -INFINITY : op == ReduceOp::Min ? INFINITY : 0.0;
      for (int64_t k = 0; k < n; ++k) {
        const double v = x[(o * n + k) * inner + i];
        if (op == ReduceOp::Max) acc = (std::isnan(v) || std::isnan(acc)) ? NAN : std::fmax(acc, v);
        else if (op == ReduceOp::Min) acc = (std::isnan(v) || std::isnan(acc)) ? NAN : std::fmin(acc, v);
        else acc += v;
      }
      if (op == ReduceOp::Mean) acc = n == 0 ? NAN : acc / double(n);
      out[o * inner + i] = static_cast<T>(acc);
    }
  }
}

template <typename T>
void arg_reduce(ArgReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner,
                int32_t* out) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best = -1;
      for (int64_t k = 0; k < n; ++k) {
        const T v = x[(o * n + k) * inner + i];
        if (std::isnan(v)) { best = k; break; }  // the first NaN wins
        if (best < 0) { best = k; continue; }
        const T bv = x[(o * n + best) * inner + i];
        if (op == ArgReduceOp::ArgMax ? v > bv : v < bv) best = k;
      }
      out[o * inner + i] = static_cast<int32_t>(best);
    }
  }
}

template <typename T>
void softmax(const T* x, int64_t rows, int64_t cols, T* out, bool log) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    double mx = -INFINITY;
    for (int64_t j = 0; j < cols; ++j) mx = std::fmax(mx, xr[j]);
    double sum = 0;
    for (int64_t j = 0; j < cols; ++j) sum += std::exp(double(xr[j]) - mx);
    for (int64_t j = 0; j < cols; ++j) {
      const double z = double(xr[j]) - mx;
      out[r * cols + j] = static_cast<T>(log ? z - std::log(sum) : std::exp(z) / sum);
    }
  }
}

template <typename T>
void softmax_backward(const T* y, const T* dy, int64_t rows, int64_t cols, T* dx, bool log) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* yr = y + r * cols;
    const T* gr = dy + r * cols;
    double s = 0;
    for (int64_t j = 0; j < cols; ++j) s += log ? double(gr[j]) : double(gr[j]) * yr[j];
    for (int64_t j = 0; j < cols; ++j)
      dx[r * cols + j] = static_cast<T>(log ? gr[j] - std::exp(double(yr[j])) * s
                                            : yr[j] * (double(gr[j]) - s));
  }
}

template <typename T>
void permute(const T* x, const int64_t* shape, const int* perm, int rank, T* out) {
  int64_t total = 1;
  for (int i = 0; i < rank; ++i) total *= shape[i];
  std::vector<int64_t> oshape(rank), oidx(rank), iidx(rank);
  for (int i = 0; i < rank; ++i) oshape[i] = shape[perm[i]];
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t rem = flat;
    for (int d = rank - 1; d >= 0; --d) {
      oidx[d] = rem % oshape[d];
      rem /= oshape[d];
    }
    for (int d = 0; d < rank; ++d) iidx[perm[d]] = oidx[d];
    int64_t off = 0;
    for (int d = 0; d < rank; ++d) off = off * shape[d] + iidx[d];
    out[flat] = x[off];
  }
}

template <typename T>
void copy_box(const T* src, const int64_t* src_shape, const int64_t* src_start, T* dst,
              const int64_t* dst_shape, const int64_t* dst_start, const int64_t* size, int rank) {
  int64_t total = 1;
  for (int i = 0; i < rank; ++i) total *= size[i];
  std::vector<int64_t> idx(rank);
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t rem = flat;
    for (int d = rank - 1; d >= 0; --d) {
      idx[d] = rem % size[d];
      rem /= size[d];
    }
    int64_t so = 0, dof = 0;
    for (int d = 0; d < rank; ++d) {
      so = so * src_shape[d] + src_start[d] + idx[d];
      dof = dof * dst_shape[d] + dst_start[d] + idx[d];
    }
    dst[dof] = src[so];
  }
}

template <typename T>
void gather_rows(const T* x, int64_t row_len, const int32_t* ids, int64_t n, T* out) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < row_len; ++k) out[i * row_len + k] = x[ids[i] * row_len + k];
}

template <typename T>
void scatter_add_rows(const T* g, int64_t row_len, const int32_t* ids, int64_t n, T* out) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < row_len; ++k) out[ids[i] * row_len + k] += g[i * row_len + k];
}

template <typename T>
void sgd_step(T* p, const T* g, T* v, int64_t n, double lr, double momentum, bool nesterov) {
  for (int64_t i = 0; i < n; ++i) {
    if (momentum == 0) {
      p[i] = static_cast<T>(p[i] - lr * g[i]);
      continue;
    }
    const double vi = momentum * v[i] - lr * g[i];
    v[i] = static_cast<T>(vi);
    p[i] = static_cast<T>(p[i] + (nesterov ? momentum * vi - lr * g[i] : vi));
  }
}

template <typename T>
void adam_step(T* p, const T* g, T* m, T* v, int64_t n, double lr, double beta1, double beta2,
               double epsilon, double step) {
  const double lr_t = lr * std::sqrt(1 - std::pow(beta2, step)) / (1 - std::pow(beta1, step));
  for (int64_t i = 0; i < n; ++i) {
    const double mi = beta1 * m[i] + (1 - beta1) * g[i];
    const double vi = beta2 * v[i] + (1 - beta2) * double(g[i]) * g[i];
    m[i] = static_cast<T>(mi);
    v[i] = static_cast<T>(vi);
    p[i] = static_cast<T>(p[i] - lr_t * mi / (std::sqrt(vi) + epsilon));
  }
}

template <typename T>
void rmsprop_step(T* p, const T* g, T* ms, int64_t n, double lr, double rho, double epsilon) {
  for (int64_t i = 0; i < n; ++i) {
    const double s = rho * ms[i] + (1 - rho) * double(g[i]) * g[i];
    ms[i] = static_cast<T>(s);
    p[i] = static_cast<T>(p[i] - lr * g[i] / std::sqrt(s + epsilon));
  }
}

template <typename T>
void adagrad_step(T* p, const T* g, T* acc, int64_t n, double lr, double epsilon) {
  for (int64_t i = 0; i < n; ++i) {
    const double a = acc[i] + double(g[i]) * g[i];
    acc[i] = static_cast<T>(a);
    p[i] = static_cast<T>(p[i] - lr * g[i] / std::sqrt(a + epsilon));
  }
}

#define GF_REF_INSTANTIATE(T)                                                                 \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t,         \
                        const T*, int64_t, T, T*, int64_t);                                   \
  template void unary<T>(UnaryOp, const T*, T*, int64_t, T, T);                               \
  template void unary_backward<T>(UnaryOp, const T*, const T*, T*, int64_t, T, T);            \
  template void binary<T>(BinaryOp, const T*, const int64_t*, int, const T*, const int64_t*,  \
                          int, T*, const int64_t*, int);                                      \
  template void reduce<T>(ReduceOp, const T*, int64_t, int64_t, int64_t, T*);                 \
  template void arg_reduce<T>(ArgReduceOp, const T*, int64_t, int64_t, int64_t, int32_t*);    \
  template void softmax<T>(const T*, int64_t, int64_t, T*, bool);                             \
  template void softmax_backward<T>(const T*, const T*, int64_t, int64_t, T*, bool);          \
  template void permute<T>(const T*, const int64_t*, const int*, int, T*);                    \
  template void copy_box<T>(const T*, const int64_t*, const int64_t*, T*, const int64_t*,     \
                            const int64_t*, const int64_t*, int);                             \
  template void gather_rows<T>(const T*, int64_t, const int32_t*, int64_t, T*);               \
  template void scatter_add_rows<T>(const T*, int64_t, const int32_t*, int64_t, T*);          \
  template void sgd_step<T>(T*, const T*, T*, int64_t, double, double, bool);                 \
  template void adam_step<T>(T*, const T*, T*, T*, int64_t, double, double, double, double,   \
                             double);                                                         \
  template void rmsprop_step<T>(T*, const T*, T*, int64_t, double, double, double);           \
  template void adagrad_step<T>(T*, const T*, T*, int64_t, double, double);
GF_REF_INSTANTIATE(float)
GF_REF_INSTANTIATE(double)
template void permute<int32_t>(const int32_t*, const int64_t*, const int*, int, int32_t*);
template void copy_box<int32_t>(const int32_t*, const int64_t*, const int64_t*, int32_t*,
                                const int64_t*, const int64_t*, const int64_t*, int);
template void gather_rows<int32_t>(const int32_t*, int64_t, const int32_t*, int64_t, int32_t*);

// ---- conv2d ----------------------------------------------------------------------------------

namespace {
// Input coordinate of tap k of output o along one axis, or -1 when it falls in the padding.
inline int64_t tap(int64_t o, int64_t k, int64_t stride, int64_t dilation, int64_t pad,
                   int64_t in) {
  const int64_t i = o * stride - pad + k * dilation;
  return (i >= 0 && i < in) ? i : -1;
}
}  // namespace

template <typename T>
void conv2d_forward(const Conv2dShape& s, const T* x, const T* w, const T* bias, T* y) {
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow)
        for (int64_t o = 0; o < s.O; ++o) {
          double acc = bias ? double(bias[o]) : 0.0;
          for (int64_t kh = 0; kh < s.KH; ++kh) {
            const int64_t ih = tap(oh, kh, s.sh, s.dh, s.pad_top, s.H);
            if (ih < 0) continue;
            for (int64_t kw = 0; kw < s.KW; ++kw) {
              const int64_t iw = tap(ow, kw, s.sw, s.dw, s.pad_left, s.W);
              if (iw < 0) continue;
              for (int64_t c = 0; c < s.C; ++c)
                acc += double(x[((n * s.H + ih) * s.W + iw) * s.C + c]) *
                       double(w[((kh * s.KW + kw) * s.C + c) * s.O + o]);
            }
          }
          y[((n * s.OH + oh) * s.OW + ow) * s.O + o] = static_cast<T>(acc);
        }
}

template <typename T>
void conv2d_backward_input(const Conv2dShape& s, const T* dy, const T* w, T* dx) {
  std::vector<double> acc(static_cast<size_t>(s.N * s.H * s.W * s.C), 0.0);
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow)
        for (int64_t kh = 0; kh < s.KH; ++kh) {
          const int64_t ih = tap(oh, kh, s.sh, s.dh, s.pad_top, s.H);
          if (ih < 0) continue;
          for (int64_t kw = 0; kw < s.KW; ++kw) {
            const int64_t iw = tap(ow, kw, s.sw, s.dw, s.pad_left, s.W);
            if (iw < 0) continue;
            for (int64_t c = 0; c < s.C; ++c)
              for (int64_t o = 0; o < s.O; ++o)
                acc[((n * s.H + ih) * s.W + iw) * s.C + c] +=
                    double(dy[((n * s.OH + oh) * s.OW + ow) * s.O + o]) *
                    double(w[((kh * s.KW + kw) * s.C + c) * s.O + o]);
          }
        }
  for (size_t i = 0; i < acc.size(); ++i) dx[i] = static_cast<T>(acc[i]);
}

template <typename T>
void conv2d_backward_filter(const Conv2dShape& s, const T* x, const T* dy, T* dw, T* dbias) {
  for (int64_t kh = 0; kh < s.KH; ++kh)
    for (int64_t kw = 0; kw < s.KW; ++kw)
      for (int64_t c = 0; c < s.C; ++c)
        for (int64_t o = 0; o < s.O; ++o) {
          double acc = 0;
          for (int64_t n = 0; n < s.N; ++n)
            for (int64_t oh = 0; oh < s.OH; ++oh) {
              const int64_t ih = tap(oh, kh, s.sh, s.dh, s.pad_top, s.H);
              if (ih < 0) continue;
              for (int64_t ow = 0; ow < s.OW; ++ow) {
                const int64_t iw = tap(ow, kw, s.sw, s.dw, s.pad_left, s.W);
                if (iw < 0) continue;
                acc += double(x[((n * s.H + ih) * s.W + iw) * s.C + c]) *
                       double(dy[((n * s.OH + oh) * s.OW + ow) * s.O + o]);
              }
            }
          dw[((kh * s.KW + kw) * s.C + c) * s.O + o] = static_cast<T>(acc);
        }
  if (dbias) {
    for (int64_t o = 0; o < s.O; ++o) {
      double acc = 0;
      for (int64_t r = 0; r < s.N * s.OH * s.OW; ++r) acc += double(dy[r * s.O + o]);
      dbias[o] = static_cast<T>(acc);
    }
  }
}

// ---- pooling ---------------------------------------------------------------------------------

namespace {
// Visits the in-input elements (ih, iw) of the window of output (oh, ow).
template <typename F>
void for_window(const Pool2dShape& s, int64_t oh, int64_t ow, const F& f) {
  for (int64_t kh = 0; kh < s.KH; ++kh) {
    const int64_t ih = oh * s.sh - s.pad_top + kh;
    if (ih < 0 || ih >= s.H) continue;
    for (int64_t kw = 0; kw < s.KW; ++kw) {
      const int64_t iw = ow * s.sw - s.pad_left + kw;
      if (iw >= 0 && iw < s.W) f(ih, iw);
    }
  }
}
}  // namespace

template <typename T>
void maxpool2d_forward(const Pool2dShape& s, const T* x, T* y) {
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow)
        for (int64_t c = 0; c < s.C; ++c) {
          double best = -std::numeric_limits<double>::infinity();
          for_window(s, oh, ow, [&](int64_t ih, int64_t iw) {
            const double v = x[((n * s.H + ih) * s.W + iw) * s.C + c];
            if (!std::isnan(best) && (std::isnan(v) || v > best)) best = v;  // NaN sticks
          });
          y[((n * s.OH + oh) * s.OW + ow) * s.C + c] = static_cast<T>(best);
        }
}

template <typename T>
void maxpool2d_backward(const Pool2dShape& s, const T* x, const T* dy, T* dx) {
  std::vector<double> acc(static_cast<size_t>(s.N * s.H * s.W * s.C), 0.0);
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow)
        for (int64_t c = 0; c < s.C; ++c) {
          int64_t at = -1;  // first maximum in window order
          double best = 0;
          for_window(s, oh, ow, [&](int64_t ih, int64_t iw) {
            const int64_t i = ((n * s.H + ih) * s.W + iw) * s.C + c;
            if (at < 0 || double(x[i]) > best) { at = i; best = x[i]; }
          });
          if (at >= 0) acc[at] += double(dy[((n * s.OH + oh) * s.OW + ow) * s.C + c]);
        }
  for (size_t i = 0; i < acc.size(); ++i) dx[i] = static_cast<T>(acc[i]);
}

template <typename T>
void avgpool2d_forward(const Pool2dShape& s, const T* x, T* y) {
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow)
        for (int64_t c = 0; c < s.C; ++c) {
          double sum = 0;
          int64_t count = 0;
          for_window(s, oh, ow, [&](int64_t ih, int64_t iw) {
            sum += x[((n * s.H + ih) * s.W + iw) * s.C + c];
            ++count;
          });
          y[((n * s.OH + oh) * s.OW + ow) * s.C + c] =
              static_cast<T>(count ? sum / double(count) : 0.0);
        }
}

template <typename T>
void avgpool2d_backward(const Pool2dShape& s, const T* dy, T* dx) {
  std::vector<double> acc(static_cast<size_t>(s.N * s.H * s.W * s.C), 0.0);
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow)
        for (int64_t c = 0; c < s.C; ++c) {
          int64_t count = 0;
          for_window(s, oh, ow, [&](int64_t, int64_t) { ++count; });
          const double g = dy[((n * s.OH + oh) * s.OW + ow) * s.C + c];
          for_window(s, oh, ow, [&](int64_t ih, int64_t iw) {
            acc[((n * s.H + ih) * s.W + iw) * s.C + c] += g / double(count);
          });
        }
  for (size_t i = 0; i < acc.size(); ++i) dx[i] = static_cast<T>(acc[i]);
}

template <typename T>
void global_avgpool2d_forward(int64_t N, int64_t HW, int64_t C, const T* x, T* y) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      double sum = 0;
      for (int64_t p = 0; p < HW; ++p) sum += x[(n * HW + p) * C + c];
      y[n * C + c] = static_cast<T>(sum / double(HW));
    }
}

template <typename T>
void global_avgpool2d_backward(int64_t N, int64_t HW, int64_t C, const T* dy, T* dx) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t p = 0; p < HW; ++p)
      for (int64_t c = 0; c < C; ++c)
        dx[(n * HW + p) * C + c] = static_cast<T>(double(dy[n * C + c]) / double(HW));
}

template <typename T>
void global_maxpool2d_forward(int64_t N, int64_t HW, int64_t C, const T* x, T* y) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      T best = x[n * HW * C + c];
      for (int64_t p = 1; p < HW; ++p) best = std::max(best, x[(n * HW + p) * C + c]);
      y[n * C + c] = best;
    }
}

template <typename T>
void global_maxpool2d_backward(int64_t N, int64_t HW, int64_t C, const T* x, const T* dy,
                               T* dx) {
  for (int64_t i = 0; i < N * HW * C; ++i) dx[i] = T(0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      int64_t at = 0;
      for (int64_t p = 1; p < HW; ++p)
        if (x[(n * HW + p) * C + c] > x[(n * HW + at) * C + c]) at = p;
      dx[(n * HW + at) * C + c] = dy[n * C + c];
    }
}

// ---- upsampling ------------------------------------------------------------------------------

namespace {
// TF ResizeBilinear (align_corners=False): the source coordinate and its two neighbours.
void bilinear_src(int64_t i, int64_t in, int64_t out, bool half_pixel, int64_t* lo,
                  int64_t* hi, double* t) {
  const double scale = double(in) / double(out);
  const double src = half_pixel ? (i + 0.5) * scale - 0.5 : i * scale;
  const double f = std::floor(src);
  *lo = std::max<int64_t>(int64_t(f), 0);
  *hi = std::min<int64_t>(int64_t(std::ceil(src)), in - 1);
  *t = src - f;
}

// The upsampling operator as explicit weights: calls f(input index, output index, weight).
template <typename F>
void upsample_weights(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh, int64_t sw,
                      UpsampleMode mode, const F& f) {
  const int64_t OH = H * sh, OW = W * sw;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t c = 0; c < C; ++c) {
          const int64_t out = ((n * OH + oh) * OW + ow) * C + c;
          auto in = [&](int64_t ih, int64_t iw) { return ((n * H + ih) * W + iw) * C + c; };
          if (mode == UpsampleMode::Nearest) {
            f(in(oh / sh, ow / sw), out, 1.0);
            continue;
          }
          const bool hp = mode == UpsampleMode::Bilinear;
          int64_t y0, y1, x0, x1;
          double ty, tx;
          bilinear_src(oh, H, OH, hp, &y0, &y1, &ty);
          bilinear_src(ow, W, OW, hp, &x0, &x1, &tx);
          f(in(y0, x0), out, (1 - ty) * (1 - tx));
          f(in(y0, x1), out, (1 - ty) * tx);
          f(in(y1, x0), out, ty * (1 - tx));
          f(in(y1, x1), out, ty * tx);
        }
}
}  // namespace

template <typename T>
void upsampling2d_forward(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh, int64_t sw,
                          UpsampleMode mode, const T* x, T* y) {
  std::vector<double> acc(static_cast<size_t>(N * H * sh * W * sw * C), 0.0);
  upsample_weights(N, H, W, C, sh, sw, mode,
                   [&](int64_t i, int64_t o, double wt) { acc[o] += wt * double(x[i]); });
  for (size_t i = 0; i < acc.size(); ++i) y[i] = static_cast<T>(acc[i]);
}

template <typename T>
void upsampling2d_backward(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh, int64_t sw,
                           UpsampleMode mode, const T* dy, T* dx) {
  std::vector<double> acc(static_cast<size_t>(N * H * W * C), 0.0);
  upsample_weights(N, H, W, C, sh, sw, mode,
                   [&](int64_t i, int64_t o, double wt) { acc[i] += wt * double(dy[o]); });
  for (size_t i = 0; i < acc.size(); ++i) dx[i] = static_cast<T>(acc[i]);
}

// ---- batch normalization ---------------------------------------------------------------------

namespace {
void moments(int64_t M, int64_t C, int64_t c, const double* xs, double* mean, double* var) {
  double s = 0;
  for (int64_t r = 0; r < M; ++r) s += xs[r * C + c];
  const double mu = s / double(M);
  double v = 0;
  for (int64_t r = 0; r < M; ++r) v += (xs[r * C + c] - mu) * (xs[r * C + c] - mu);
  *mean = mu;
  *var = v / double(M);
}
template <typename T>
std::vector<double> to_double(const T* p, int64_t n) {
  return std::vector<double>(p, p + n);
}
}  // namespace

template <typename T>
void batchnorm_forward_train(int64_t M, int64_t C, const T* x, const T* gamma, const T* beta,
                             double eps, double momentum, T* y, T* mean, T* inv_std,
                             T* moving_mean, T* moving_var) {
  const std::vector<double> xs = to_double(x, M * C);
  for (int64_t c = 0; c < C; ++c) {
    double mu, var;
    moments(M, C, c, xs.data(), &mu, &var);
    const double is = 1.0 / std::sqrt(var + eps);
    const double g = gamma ? double(gamma[c]) : 1.0, b = beta ? double(beta[c]) : 0.0;
    for (int64_t r = 0; r < M; ++r) y[r * C + c] = static_cast<T>(g * (xs[r * C + c] - mu) * is + b);
    mean[c] = static_cast<T>(mu);
    inv_std[c] = static_cast<T>(is);
    if (moving_mean) moving_mean[c] = static_cast<T>(double(moving_mean[c]) * momentum + mu * (1 - momentum));
    if (moving_var) moving_var[c] = static_cast<T>(double(moving_var[c]) * momentum + var * (1 - momentum));
  }
}

template <typename T>
void batchnorm_forward_inference(int64_t M, int64_t C, const T* x, const T* gamma,
                                 const T* beta, const T* moving_mean, const T* moving_var,
                                 double eps, T* y) {
  for (int64_t c = 0; c < C; ++c) {
    const double g = gamma ? double(gamma[c]) : 1.0, b = beta ? double(beta[c]) : 0.0;
    const double sd = std::sqrt(double(moving_var[c]) + eps);
    for (int64_t r = 0; r < M; ++r)
      y[r * C + c] = static_cast<T>(g * (double(x[r * C + c]) - double(moving_mean[c])) / sd + b);
  }
}

template <typename T>
void batchnorm_backward(int64_t M, int64_t C, const T* x, const T* dy, const T* gamma,
                        double eps, T* dx, T* dgamma, T* dbeta) {
  const std::vector<double> xs = to_double(x, M * C);
  for (int64_t c = 0; c < C; ++c) {
    double mu, var;
    moments(M, C, c, xs.data(), &mu, &var);
    const double sd = std::sqrt(var + eps), g = gamma ? double(gamma[c]) : 1.0;
    // y = g * xh + b, xh = (x - mu) / sd; the textbook chain rule through mu and var:
    // dxh = dy * g; dvar = sum dxh * (x - mu) * -1/2 sd^-3; dmu = sum -dxh / sd + dvar * sum
    // -2 (x - mu) / M; dx = dxh / sd + dvar * 2 (x - mu) / M + dmu / M.
    double dvar = 0, dmu = 0, sdy = 0, sdyxh = 0, sxm = 0;
    for (int64_t r = 0; r < M; ++r) {
      const double d = dy[r * C + c], xm = xs[r * C + c] - mu;
      dvar += d * g * xm * -0.5 / (sd * sd * sd);
      dmu += -d * g / sd;
      sdy += d;
      sdyxh += d * xm / sd;
      sxm += -2 * xm;
    }
    dmu += dvar * sxm / double(M);
    for (int64_t r = 0; r < M; ++r) {
      const double xm = xs[r * C + c] - mu;
      dx[r * C + c] = static_cast<T>(double(dy[r * C + c]) * g / sd + dvar * 2 * xm / double(M) +
                                     dmu / double(M));
    }
    if (dgamma) dgamma[c] = static_cast<T>(sdyxh);
    if (dbeta) dbeta[c] = static_cast<T>(sdy);
  }
}

template <typename T>
void batchnorm_backward_inference(int64_t M, int64_t C, const T* x, const T* dy,
                                  const T* gamma, const T* moving_mean, const T* moving_var,
                                  double eps, T* dx, T* dgamma, T* dbeta) {
  for (int64_t c = 0; c < C; ++c) {
    const double g = gamma ? double(gamma[c]) : 1.0;
    const double sd = std::sqrt(double(moving_var[c]) + eps);
    double sdy = 0, sdyxh = 0;
    for (int64_t r = 0; r < M; ++r) {
      const double d = dy[r * C + c];
      dx[r * C + c] = static_cast<T>(d * g / sd);
      sdy += d;
      sdyxh += d * (double(x[r * C + c]) - double(moving_mean[c])) / sd;
    }
    if (dgamma) dgamma[c] = static_cast<T>(sdyxh);
    if (dbeta) dbeta[c] = static_cast<T>(sdy);
  }
}

#define GF_REF_INSTANTIATE_CNN(T)                                                             \
  template void conv2d_forward<T>(const Conv2dShape&, const T*, const T*, const T*, T*);      \
  template void conv2d_backward_input<T>(const Conv2dShape&, const T*, const T*, T*);         \
  template void conv2d_backward_filter<T>(const Conv2dShape&, const T*, const T*, T*, T*);    \
  template void maxpool2d_forward<T>(const Pool2dShape&, const T*, T*);                       \
  template void maxpool2d_backward<T>(const Pool2dShape&, const T*, const T*, T*);            \
  template void avgpool2d_forward<T>(const Pool2dShape&, const T*, T*);                       \
  template void avgpool2d_backward<T>(const Pool2dShape&, const T*, T*);                      \
  template void global_avgpool2d_forward<T>(int64_t, int64_t, int64_t, const T*, T*);         \
  template void global_avgpool2d_backward<T>(int64_t, int64_t, int64_t, const T*, T*);        \
  template void global_maxpool2d_forward<T>(int64_t, int64_t, int64_t, const T*, T*);         \
  template void global_maxpool2d_backward<T>(int64_t, int64_t, int64_t, const T*, const T*,   \
                                             T*);                                             \
  template void upsampling2d_forward<T>(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, \
                                        UpsampleMode, const T*, T*);                          \
  template void upsampling2d_backward<T>(int64_t, int64_t, int64_t, int64_t, int64_t,         \
                                         int64_t, UpsampleMode, const T*, T*);                \
  template void batchnorm_forward_train<T>(int64_t, int64_t, const T*, const T*, const T*,    \
                                           double, double, T*, T*, T*, T*, T*);               \
  template void batchnorm_forward_inference<T>(int64_t, int64_t, const T*, const T*,          \
                                               const T*, const T*, const T*, double, T*);     \
  template void batchnorm_backward<T>(int64_t, int64_t, const T*, const T*, const T*, double, \
                                      T*, T*, T*);                                            \
  template void batchnorm_backward_inference<T>(int64_t, int64_t, const T*, const T*,        \
                                                 const T*, const T*, const T*, double, T*,    \
                                                 T*, T*);
GF_REF_INSTANTIATE_CNN(float)
GF_REF_INSTANTIATE_CNN(double)

}  // namespace ref
}  // namespace gf

// ---- recurrent cells ------------------------------------------------------------------------
namespace gf {
namespace ref {
namespace {

double rnn_act(RnnActivation a, double v) {
  switch (a) {
    case RnnActivation::Tanh: return std::tanh(v);
    case RnnActivation::Sigmoid: return 1.0 / (1.0 + std::exp(-v));
    case RnnActivation::HardSigmoid: return std::min(1.0, std::max(0.0, (v + 3.0) / 6.0));
    case RnnActivation::HardSigmoidLegacy: return std::min(1.0, std::max(0.0, 0.2 * v + 0.5));
    case RnnActivation::Relu: return v > 0 ? v : 0.0;
    case RnnActivation::Linear: return v;
  }
  return v;
}

// d act / d v at the pre-activation v.
double rnn_act_deriv(RnnActivation a, double v) {
  switch (a) {
    case RnnActivation::Tanh: { const double ch = std::cosh(v); return 1.0 / (ch * ch); }
    case RnnActivation::Sigmoid: { const double s = 1.0 / (1.0 + std::exp(-v)); return s * (1 - s); }
    case RnnActivation::HardSigmoid: return (v > -3.0 && v < 3.0) ? 1.0 / 6.0 : 0.0;
    case RnnActivation::HardSigmoidLegacy: return (v > -2.5 && v < 2.5) ? 0.2 : 0.0;
    case RnnActivation::Relu: return v > 0 ? 1.0 : 0.0;
    case RnnActivation::Linear: return 1.0;
  }
  return 1.0;
}

template <typename T>
std::vector<double> rnn_to_double(const T* p, size_t n) {
  std::vector<double> v(n, 0.0);
  if (p) for (size_t i = 0; i < n; ++i) v[i] = double(p[i]);
  return v;
}

// One step of one batch row, as the forward computed it (what the backward needs).
struct RnnRefStep {
  bool keep = true;
  std::vector<double> hp, cp;   // state the step starts from (U)
  std::vector<double> hd;       // hp * rmask: what multiplies R (U)
  std::vector<double> pre, gv;  // final pre-activation and value of each gate (G*U)
  std::vector<double> rr;       // recurrent part: h R (+ b_rec for reset_after) (G*U)
  std::vector<double> rh;       // GRU reset_after=false: r * h_{t-1} (U)
  std::vector<double> c;        // LSTM new cell state (U)
};

struct RnnRef {
  RnnConfig c;
  int64_t G, GU;
  std::vector<double> x, W, R, b;
  bool has_b;
  const uint8_t* mask;
  std::vector<double> rm;  // recurrent dropout mask (N, U); all ones when none
  std::vector<std::vector<RnnRefStep>> tape;  // [s][n]
  std::vector<double> y, hT, cT;

  int64_t time_of(int64_t s) const { return c.go_backwards ? c.T - 1 - s : s; }
  bool gru_ra() const { return c.cell == RnnCell::GRU && c.reset_after; }

  void forward(std::vector<double> h, std::vector<double> cs) {
    const int64_t N = c.N, Tn = c.T, In = c.In, U = c.U;
    const RnnActivation act = c.activation, rac = c.recurrent_activation;
    y.assign(N * Tn * U, 0.0);
    tape.assign(Tn, std::vector<RnnRefStep>(N));
    for (int64_t s = 0; s < Tn; ++s) {
      const int64_t t = time_of(s);
      for (int64_t n = 0; n < N; ++n) {
        RnnRefStep& st = tape[s][n];
        st.hp.assign(h.begin() + n * U, h.begin() + (n + 1) * U);
        st.cp.assign(cs.begin() + n * U, cs.begin() + (n + 1) * U);
        st.keep = !mask || mask[n * Tn + t] != 0;
        st.hd.assign(U, 0.0);
        for (int64_t u = 0; u < U; ++u) st.hd[u] = st.hp[u] * rm[n * U + u];
        std::vector<double> xa(GU, 0.0);
        st.rr.assign(GU, 0.0);
        for (int64_t k = 0; k < GU; ++k) {
          double a = has_b ? b[k] : 0.0;
          for (int64_t i = 0; i < In; ++i) a += x[(n * Tn + t) * In + i] * W[i * GU + k];
          xa[k] = a;
          double r = (has_b && gru_ra()) ? b[GU + k] : 0.0;
          for (int64_t j = 0; j < U; ++j) r += st.hd[j] * R[j * GU + k];
          st.rr[k] = r;
        }
        st.pre.assign(GU, 0.0);
        st.gv.assign(GU, 0.0);
        std::vector<double> hn(U);
        if (c.cell == RnnCell::SimpleRNN) {
          for (int64_t u = 0; u < U; ++u) {
            st.pre[u] = xa[u] + st.rr[u];
            hn[u] = st.gv[u] = rnn_act(act, st.pre[u]);
          }
        } else if (c.cell == RnnCell::LSTM) {
          st.c.assign(U, 0.0);
          for (int64_t k = 0; k < GU; ++k) {
            st.pre[k] = xa[k] + st.rr[k];
            st.gv[k] = rnn_act(k / U == 2 ? act : rac, st.pre[k]);
          }
          for (int64_t u = 0; u < U; ++u) {
            st.c[u] = st.gv[U + u] * st.cp[u] + st.gv[u] * st.gv[2 * U + u];
            hn[u] = st.gv[3 * U + u] * rnn_act(act, st.c[u]);
          }
        } else {
          for (int64_t k = 0; k < 2 * U; ++k) {
            st.pre[k] = xa[k] + st.rr[k];
            st.gv[k] = rnn_act(rac, st.pre[k]);
          }
          if (c.reset_after) {
            for (int64_t u = 0; u < U; ++u)
              st.pre[2 * U + u] = xa[2 * U + u] + st.gv[U + u] * st.rr[2 * U + u];
          } else {
            st.rh.assign(U, 0.0);
            for (int64_t j = 0; j < U; ++j) st.rh[j] = st.gv[U + j] * st.hd[j];
            for (int64_t u = 0; u < U; ++u) {
              double r = 0;
              for (int64_t j = 0; j < U; ++j) r += st.rh[j] * R[j * GU + 2 * U + u];
              st.rr[2 * U + u] = r;
              st.pre[2 * U + u] = xa[2 * U + u] + r;
            }
          }
          for (int64_t u = 0; u < U; ++u) {
            st.gv[2 * U + u] = rnn_act(act, st.pre[2 * U + u]);
            const double z = st.gv[u];
            hn[u] = z * st.hp[u] + (1 - z) * st.gv[2 * U + u];
          }
        }
        double* yr = &y[(n * Tn + s) * U];
        for (int64_t u = 0; u < U; ++u) {
          if (st.keep) {
            h[n * U + u] = hn[u];
            if (c.cell == RnnCell::LSTM) cs[n * U + u] = st.c[u];
            yr[u] = hn[u];
          } else {  // Keras 3: zeros, or the carried state h (its states[0])
            yr[u] = c.zero_output_for_mask ? 0.0 : h[n * U + u];
          }
        }
      }
    }
    hT = h;
    cT = cs;
  }
};

template <typename T>
RnnRef make_rnn_ref(const RnnConfig& cfg, const T* x, const T* W, const T* R, const T* b,
                    const uint8_t* mask, const T* rmask) {
  RnnRef m;
  m.c = cfg;
  m.G = rnn_gates(cfg.cell);
  m.GU = m.G * cfg.U;
  m.x = rnn_to_double(x, cfg.N * cfg.T * cfg.In);
  m.W = rnn_to_double(W, cfg.In * m.GU);
  m.R = rnn_to_double(R, cfg.U * m.GU);
  m.has_b = b != nullptr;
  m.b = rnn_to_double(b, (m.gru_ra() ? 2 : 1) * m.GU);
  m.mask = mask;
  m.rm.assign(cfg.N * cfg.U, 1.0);
  if (rmask) m.rm = rnn_to_double(rmask, cfg.N * cfg.U);
  return m;
}

template <typename T>
void rnn_store(const std::vector<double>& v, T* out) {
  if (out) for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<T>(v[i]);
}

}  // namespace

template <typename T>
void rnn_forward(const RnnConfig& cfg, const T* x, const T* W, const T* R, const T* b,
                 const T* h0, const T* c0, const uint8_t* mask, const T* rmask, T* y, T* hT,
                 T* cT) {
  RnnRef m = make_rnn_ref(cfg, x, W, R, b, mask, rmask);
  const size_t NU = cfg.N * cfg.U;
  m.forward(rnn_to_double(h0, NU), rnn_to_double(cfg.cell == RnnCell::LSTM ? c0 : nullptr, NU));
  rnn_store(m.y, y);
  rnn_store(m.hT, hT);
  if (cfg.cell == RnnCell::LSTM) rnn_store(m.cT, cT);
}

template <typename T>
void rnn_backward(const RnnConfig& cfg, const T* x, const T* W, const T* R, const T* b,
                  const T* h0, const T* c0, const uint8_t* mask, const T* rmask, const T* dy,
                  const T* dhT, const T* dcT, T* dx, T* dh0, T* dc0, T* dW, T* dR, T* db) {
  const bool lstm = cfg.cell == RnnCell::LSTM, gru = cfg.cell == RnnCell::GRU;
  RnnRef m = make_rnn_ref(cfg, x, W, R, b, mask, rmask);
  const int64_t N = cfg.N, Tn = cfg.T, In = cfg.In, U = cfg.U, GU = m.GU;
  const RnnActivation act = cfg.activation, rac = cfg.recurrent_activation;
  const size_t NU = N * U;
  m.forward(rnn_to_double(h0, NU), rnn_to_double(lstm ? c0 : nullptr, NU));
  const bool ra = m.gru_ra();

  std::vector<double> gy = rnn_to_double(dy, N * Tn * U);
  std::vector<double> gh = rnn_to_double(dhT, NU), gc = rnn_to_double(lstm ? dcT : nullptr, NU);
  std::vector<double> gx(N * Tn * In, 0.0), gW(In * GU, 0.0), gR(U * GU, 0.0),
      gb((ra ? 2 : 1) * GU, 0.0);
  for (int64_t s = Tn - 1; s >= 0; --s) {
    const int64_t t = m.time_of(s);
    for (int64_t n = 0; n < N; ++n) {
      const RnnRefStep& st = m.tape[s][n];
      if (!st.keep) {  // state carried (gc unchanged); y[s] was the carried h or zeros
        if (!cfg.zero_output_for_mask)
          for (int64_t u = 0; u < U; ++u) gh[n * U + u] += gy[(n * Tn + s) * U + u];
        continue;
      }
      // dhp: gradient of the undropped h_{t-1} (GRU's state mix); dhd: of hd = h_{t-1} * rmask
      // (everything that multiplies R), which reaches dhp times rmask at the end.
      std::vector<double> dht(U), dhp(U, 0.0), dhd(U, 0.0), dax(GU, 0.0), dar(GU, 0.0);
      for (int64_t u = 0; u < U; ++u) dht[u] = gh[n * U + u] + gy[(n * Tn + s) * U + u];
      // dax: gradient of the input-side pre-activation (x W + b_in), dar: of the part that
      // multiplies h_{t-1} by R (for GRU reset_after=false only the z, r columns).
      if (cfg.cell == RnnCell::SimpleRNN) {
        for (int64_t u = 0; u < U; ++u) dax[u] = dar[u] = dht[u] * rnn_act_deriv(act, st.pre[u]);
      } else if (lstm) {
        for (int64_t u = 0; u < U; ++u) {
          const double i = st.gv[u], f = st.gv[U + u], g = st.gv[2 * U + u],
                       o = st.gv[3 * U + u];
          const double dct = gc[n * U + u] + dht[u] * o * rnn_act_deriv(act, st.c[u]);
          const double d_o = dht[u] * rnn_act(act, st.c[u]);
          dax[u] = dct * g * rnn_act_deriv(rac, st.pre[u]);
          dax[U + u] = dct * st.cp[u] * rnn_act_deriv(rac, st.pre[U + u]);
          dax[2 * U + u] = dct * i * rnn_act_deriv(act, st.pre[2 * U + u]);
          dax[3 * U + u] = d_o * rnn_act_deriv(rac, st.pre[3 * U + u]);
          gc[n * U + u] = dct * f;
        }
        dar = dax;
      } else {
        std::vector<double> dr(U, 0.0);
        for (int64_t u = 0; u < U; ++u) {
          const double z = st.gv[u], hh = st.gv[2 * U + u];
          dax[u] = dht[u] * (st.hp[u] - hh) * rnn_act_deriv(rac, st.pre[u]);
          dax[2 * U + u] = dht[u] * (1 - z) * rnn_act_deriv(act, st.pre[2 * U + u]);
          dhp[u] += dht[u] * z;
        }
        if (ra) {
          for (int64_t u = 0; u < U; ++u) {
            dr[u] = dax[2 * U + u] * st.rr[2 * U + u];
            dar[2 * U + u] = dax[2 * U + u] * st.gv[U + u];
          }
        } else {
          for (int64_t j = 0; j < U; ++j) {
            double drh = 0;
            for (int64_t u = 0; u < U; ++u) {
              drh += R[j * GU + 2 * U + u] * dax[2 * U + u];
              gR[j * GU + 2 * U + u] += st.rh[j] * dax[2 * U + u];
            }
            dr[j] = drh * st.hd[j];
            dhd[j] += drh * st.gv[U + j];
          }
        }
        for (int64_t u = 0; u < U; ++u) dax[U + u] = dr[u] * rnn_act_deriv(rac, st.pre[U + u]);
        for (int64_t k = 0; k < 2 * U; ++k) dar[k] = dax[k];
      }
      const int64_t rcols = (gru && !ra) ? 2 * U : GU;  // columns of R that multiply h_{t-1}
      for (int64_t k = 0; k < GU; ++k) {
        for (int64_t i = 0; i < In; ++i) {
          gW[i * GU + k] += m.x[(n * Tn + t) * In + i] * dax[k];
          gx[(n * Tn + t) * In + i] += W[i * GU + k] * dax[k];
        }
        gb[k] += dax[k];
        if (ra) gb[GU + k] += dar[k];
        if (k < rcols) {
          for (int64_t j = 0; j < U; ++j) {
            gR[j * GU + k] += st.hd[j] * dar[k];
            dhd[j] += R[j * GU + k] * dar[k];
          }
        }
      }
      for (int64_t u = 0; u < U; ++u) gh[n * U + u] = dhp[u] + dhd[u] * m.rm[n * U + u];
    }
  }
  rnn_store(gx, dx);
  rnn_store(gh, dh0);
  if (lstm) rnn_store(gc, dc0);
  rnn_store(gW, dW);
  rnn_store(gR, dR);
  rnn_store(gb, db);
}

#define GF_REF_INSTANTIATE_RNN(T)                                                            \
  template void rnn_forward<T>(const RnnConfig&, const T*, const T*, const T*, const T*,     \
                               const T*, const T*, const uint8_t*, const T*, T*, T*, T*);    \
  template void rnn_backward<T>(const RnnConfig&, const T*, const T*, const T*, const T*,    \
                                const T*, const T*, const uint8_t*, const T*, const T*,      \
                                const T*, const T*, T*, T*, T*, T*, T*, T*);
GF_REF_INSTANTIATE_RNN(float)
GF_REF_INSTANTIATE_RNN(double)

}  // namespace ref
}  // namespace gf

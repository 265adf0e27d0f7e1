// Reference kernels (see ref.h). Written for obviousness: every output element is computed
// from its definition in double precision and rounded once to T. Instantiated for float and
// double (permute also for int32). Nothing here is tuned; tests keep problem sizes modest.
#include "ref/ref.h"

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
  template void sgd_step<T>(T*, const T*, T*, int64_t, double, double, bool);                 \
  template void adam_step<T>(T*, const T*, T*, T*, int64_t, double, double, double, double,   \
                             double);                                                         \
  template void rmsprop_step<T>(T*, const T*, T*, int64_t, double, double, double);           \
  template void adagrad_step<T>(T*, const T*, T*, int64_t, double, double);
GF_REF_INSTANTIATE(float)
GF_REF_INSTANTIATE(double)
template void permute<int32_t>(const int32_t*, const int64_t*, const int*, int, int32_t*);

}  // namespace ref
}  // namespace gf

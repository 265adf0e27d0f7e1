// Unary ops (forward and gradient) and broadcasting binary ops.
// Numerics: sigmoid, softplus and logSigmoid are evaluated in forms that never overflow exp();
// elu/selu use expm1 for accuracy near 0; maximum/minimum propagate NaN as NumPy does.
// Broadcasting: dims of size 1 are dropped, adjacent dims that are contiguous in a, b and out
// are merged, and the innermost run is a tight loop specialized for each operand's stride
// (0 = broadcast, 1 = contiguous); that makes same-shape, scalar and row/column broadcasts
// all single loops. Not here: shape validation (the binding does it).
#include "cpu/elementwise.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu/threadpool.h"

namespace gf {
namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per parallel chunk; below this, one thread

template <typename T>
inline T sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);  // x < 0: exp(x) <= 1, no overflow
  return e / (T(1) + e);
}

template <typename T>
inline T softplus(T x) {  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
  return std::max(x, T(0)) + std::log1p(std::exp(-std::abs(x)));
}

template <typename T>
inline T log_sigmoid(T x) {  // -softplus(-x)
  return std::min(x, T(0)) - std::log1p(std::exp(-std::abs(x)));
}

template <typename T>
inline T sign(T x) {
  return x > T(0) ? T(1) : (x < T(0) ? T(-1) : x);  // keeps 0 and NaN
}

template <typename T, typename F>
void map1(const T* x, T* out, int64_t n, F f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = f(x[i]);
  });
}

// dx = g(x, y, dy)
template <typename T, typename F>
void map3(const T* x, const T* y, const T* dy, T* dx, int64_t n, F f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dx[i] = f(x[i], y[i], dy[i]);
  });
}

template <typename T>
inline T maximum(T a, T b) {
  if (a != a) return a;
  if (b != b) return b;
  return a > b ? a : b;
}
template <typename T>
inline T minimum(T a, T b) {
  if (a != a) return a;
  if (b != b) return b;
  return a < b ? a : b;
}

// Broadcast iteration plan: out viewed as (rows, inner), a and b addressed by per-dim strides.
struct Plan {
  int rank = 0;                 // dims after dropping 1s and merging, innermost last
  int64_t dims[kMaxRank] = {};
  int64_t sa[kMaxRank] = {};    // element strides of a / b in each merged dim (0 = broadcast)
  int64_t sb[kMaxRank] = {};
};

Plan make_plan(const int64_t* aShape, int aRank, const int64_t* bShape, int bRank,
               const int64_t* outShape, int outRank) {
  // Strides of a and b over out's dims (right-aligned), 0 where broadcast.
  int64_t da[kMaxRank], db[kMaxRank], sa[kMaxRank], sb[kMaxRank];
  for (int i = 0; i < outRank; ++i) {
    int ia = i - (outRank - aRank), ib = i - (outRank - bRank);
    da[i] = ia >= 0 ? aShape[ia] : 1;
    db[i] = ib >= 0 ? bShape[ib] : 1;
  }
  int64_t stA = 1, stB = 1;
  for (int i = outRank - 1; i >= 0; --i) {
    sa[i] = da[i] == 1 ? 0 : stA;
    sb[i] = db[i] == 1 ? 0 : stB;
    stA *= da[i];
    stB *= db[i];
  }
  Plan p;
  for (int i = 0; i < outRank; ++i) {
    if (outShape[i] == 1) continue;  // contributes nothing to addressing
    if (p.rank > 0) {
      int j = p.rank - 1;
      // Merge dim i into the previous kept dim when both operands step through them as one.
      bool a_ok = p.sa[j] == sa[i] * outShape[i];
      bool b_ok = p.sb[j] == sb[i] * outShape[i];
      if (a_ok && b_ok) {
        p.dims[j] *= outShape[i];
        p.sa[j] = sa[i];
        p.sb[j] = sb[i];
        continue;
      }
    }
    p.dims[p.rank] = outShape[i];
    p.sa[p.rank] = sa[i];
    p.sb[p.rank] = sb[i];
    ++p.rank;
  }
  if (p.rank == 0) {  // every dim is 1: one element
    p.rank = 1;
    p.dims[0] = 1;
    p.sa[0] = p.sb[0] = 0;
  }
  return p;
}

template <typename T, typename F>
void inner_run(const T* a, int64_t sa, const T* b, int64_t sb, T* out, int64_t n, F f) {
  // Specialized so the common cases compile to straight vectorizable loops.
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const T bv = b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const T av = a[0];
    for (int64_t i = 0; i < n; ++i) out[i] = f(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i * sa], b[i * sb]);
  }
}

template <typename T, typename F>
void broadcast_apply(const T* a, const int64_t* aShape, int aRank, const T* b,
                     const int64_t* bShape, int bRank, T* out, const int64_t* outShape,
                     int outRank, F f) {
  int64_t total = 1;
  for (int i = 0; i < outRank; ++i) total *= outShape[i];
  if (total == 0) return;
  const Plan p = make_plan(aShape, aRank, bShape, bRank, outShape, outRank);
  const int last = p.rank - 1;
  const int64_t inner = p.dims[last];
  const int64_t rows = total / inner;
  const int64_t grain = std::max<int64_t>(1, kGrain / inner);
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    // Decompose the first row index into per-dim counters, then walk like an odometer.
    int64_t idx[kMaxRank] = {};
    int64_t offA = 0, offB = 0, rem = r0;
    for (int d = last - 1; d >= 0; --d) {
      idx[d] = rem % p.dims[d];
      rem /= p.dims[d];
      offA += idx[d] * p.sa[d];
      offB += idx[d] * p.sb[d];
    }
    for (int64_t r = r0; r < r1; ++r) {
      inner_run(a + offA, p.sa[last], b + offB, p.sb[last], out + r * inner, inner, f);
      for (int d = last - 1; d >= 0; --d) {
        ++idx[d];
        offA += p.sa[d];
        offB += p.sb[d];
        if (idx[d] < p.dims[d]) break;
        offA -= idx[d] * p.sa[d];
        offB -= idx[d] * p.sb[d];
        idx[d] = 0;
      }
    }
  });
}

struct Name {
  const char* name;
  int value;
};
const Name kUnaryNames[] = {
    {"neg", int(UnaryOp::Neg)},         {"exp", int(UnaryOp::Exp)},
    {"log", int(UnaryOp::Log)},         {"sqrt", int(UnaryOp::Sqrt)},
    {"abs", int(UnaryOp::Abs)},         {"square", int(UnaryOp::Square)},
    {"reciprocal", int(UnaryOp::Reciprocal)}, {"sign", int(UnaryOp::Sign)},
    {"relu", int(UnaryOp::Relu)},       {"leakyRelu", int(UnaryOp::LeakyRelu)},
    {"elu", int(UnaryOp::Elu)},         {"selu", int(UnaryOp::Selu)},
    {"sigmoid", int(UnaryOp::Sigmoid)}, {"tanh", int(UnaryOp::Tanh)},
    {"softplus", int(UnaryOp::Softplus)}, {"clip", int(UnaryOp::Clip)},
    {"powScalar", int(UnaryOp::PowScalar)}, {"scale", int(UnaryOp::Scale)},
    {"log1p", int(UnaryOp::Log1p)},     {"logSigmoid", int(UnaryOp::LogSigmoid)},
};
const Name kBinaryNames[] = {
    {"add", int(BinaryOp::Add)},         {"sub", int(BinaryOp::Sub)},
    {"mul", int(BinaryOp::Mul)},         {"div", int(BinaryOp::Div)},
    {"pow", int(BinaryOp::Pow)},         {"maximum", int(BinaryOp::Maximum)},
    {"minimum", int(BinaryOp::Minimum)}, {"greater", int(BinaryOp::Greater)},
    {"greaterEqual", int(BinaryOp::GreaterEqual)}, {"less", int(BinaryOp::Less)},
    {"lessEqual", int(BinaryOp::LessEqual)}, {"equal", int(BinaryOp::Equal)},
};

template <size_t N>
bool lookup(const Name (&table)[N], const char* name, int* out) {
  for (const Name& e : table) {
    if (std::strcmp(e.name, name) == 0) {
      *out = e.value;
      return true;
    }
  }
  return false;
}

}  // namespace

bool unary_op_from_name(const char* name, UnaryOp* op) {
  int v;
  if (!lookup(kUnaryNames, name, &v)) return false;
  *op = static_cast<UnaryOp>(v);
  return true;
}

bool binary_op_from_name(const char* name, BinaryOp* op) {
  int v;
  if (!lookup(kBinaryNames, name, &v)) return false;
  *op = static_cast<BinaryOp>(v);
  return true;
}

template <typename T>
void unary_forward(UnaryOp op, const T* x, T* out, int64_t n, T alpha, T beta) {
  const T selu_scale = T(kSeluScale), selu_alpha = T(kSeluAlpha);
  switch (op) {
    case UnaryOp::Neg: return map1(x, out, n, [](T v) { return -v; });
    case UnaryOp::Exp: return map1(x, out, n, [](T v) { return std::exp(v); });
    case UnaryOp::Log: return map1(x, out, n, [](T v) { return std::log(v); });
    case UnaryOp::Sqrt: return map1(x, out, n, [](T v) { return std::sqrt(v); });
    case UnaryOp::Abs: return map1(x, out, n, [](T v) { return std::abs(v); });
    case UnaryOp::Square: return map1(x, out, n, [](T v) { return v * v; });
    case UnaryOp::Reciprocal: return map1(x, out, n, [](T v) { return T(1) / v; });
    case UnaryOp::Sign: return map1(x, out, n, [](T v) { return sign(v); });
    // v < 0 ? 0 : v (not v > 0 ? v : 0) so NaN propagates, as in PyTorch.
    case UnaryOp::Relu: return map1(x, out, n, [](T v) { return v < T(0) ? T(0) : v; });
    case UnaryOp::LeakyRelu:
      return map1(x, out, n, [alpha](T v) { return v > T(0) ? v : alpha * v; });
    case UnaryOp::Elu:
      return map1(x, out, n, [alpha](T v) { return v > T(0) ? v : alpha * std::expm1(v); });
    case UnaryOp::Selu:
      return map1(x, out, n, [=](T v) {
        return selu_scale * (v > T(0) ? v : selu_alpha * std::expm1(v));
      });
    case UnaryOp::Sigmoid: return map1(x, out, n, [](T v) { return sigmoid(v); });
    case UnaryOp::Tanh: return map1(x, out, n, [](T v) { return std::tanh(v); });
    case UnaryOp::Softplus: return map1(x, out, n, [](T v) { return softplus(v); });
    case UnaryOp::Clip:
      return map1(x, out, n, [=](T v) { return std::min(std::max(v, alpha), beta); });
    case UnaryOp::PowScalar: return map1(x, out, n, [alpha](T v) { return std::pow(v, alpha); });
    case UnaryOp::Scale: return map1(x, out, n, [=](T v) { return alpha * v + beta; });
    case UnaryOp::Log1p: return map1(x, out, n, [](T v) { return std::log1p(v); });
    case UnaryOp::LogSigmoid: return map1(x, out, n, [](T v) { return log_sigmoid(v); });
  }
}

template <typename T>
void unary_backward(UnaryOp op, const T* x, const T* y, const T* dy, T* dx, int64_t n, T alpha,
                    T beta) {
  const T selu_scale = T(kSeluScale), selu_sa = T(kSeluScale * kSeluAlpha);
  switch (op) {
    case UnaryOp::Neg: return map3(x, y, dy, dx, n, [](T, T, T g) { return -g; });
    case UnaryOp::Exp: return map3(x, y, dy, dx, n, [](T, T yv, T g) { return g * yv; });
    case UnaryOp::Log: return map3(x, y, dy, dx, n, [](T xv, T, T g) { return g / xv; });
    case UnaryOp::Sqrt:
      return map3(x, y, dy, dx, n, [](T, T yv, T g) { return g * T(0.5) / yv; });
    case UnaryOp::Abs: return map3(x, y, dy, dx, n, [](T xv, T, T g) { return g * sign(xv); });
    case UnaryOp::Square:
      return map3(x, y, dy, dx, n, [](T xv, T, T g) { return T(2) * xv * g; });
    case UnaryOp::Reciprocal:
      return map3(x, y, dy, dx, n, [](T, T yv, T g) { return -g * yv * yv; });
    case UnaryOp::Sign: return map3(x, y, dy, dx, n, [](T, T, T) { return T(0); });
    case UnaryOp::Relu:
      return map3(x, y, dy, dx, n, [](T xv, T, T g) { return xv > T(0) ? g : T(0); });
    case UnaryOp::LeakyRelu:
      return map3(x, y, dy, dx, n, [alpha](T xv, T, T g) { return xv > T(0) ? g : alpha * g; });
    case UnaryOp::Elu:  // x <= 0: d/dx alpha*(e^x - 1) = alpha*e^x = y + alpha
      return map3(x, y, dy, dx, n,
                  [alpha](T xv, T yv, T g) { return xv > T(0) ? g : g * (yv + alpha); });
    case UnaryOp::Selu:  // x <= 0: d/dx s*a*(e^x - 1) = s*a*e^x = y + s*a
      return map3(x, y, dy, dx, n, [=](T xv, T yv, T g) {
        return xv > T(0) ? g * selu_scale : g * (yv + selu_sa);
      });
    case UnaryOp::Sigmoid:
      return map3(x, y, dy, dx, n, [](T, T yv, T g) { return g * yv * (T(1) - yv); });
    case UnaryOp::Tanh:
      return map3(x, y, dy, dx, n, [](T, T yv, T g) { return g * (T(1) - yv * yv); });
    case UnaryOp::Softplus:
      return map3(x, y, dy, dx, n, [](T xv, T, T g) { return g * sigmoid(xv); });
    case UnaryOp::Clip:  // gradient passes inside [alpha, beta], bounds included (as TF)
      return map3(x, y, dy, dx, n,
                  [=](T xv, T, T g) { return (xv >= alpha && xv <= beta) ? g : T(0); });
    case UnaryOp::PowScalar:  // alpha == 0 is constant 1: gradient 0 even at x = 0
      return map3(x, y, dy, dx, n, [alpha](T xv, T, T g) {
        return alpha == T(0) ? T(0) : g * alpha * std::pow(xv, alpha - T(1));
      });
    case UnaryOp::Scale: return map3(x, y, dy, dx, n, [alpha](T, T, T g) { return g * alpha; });
    case UnaryOp::Log1p:
      return map3(x, y, dy, dx, n, [](T xv, T, T g) { return g / (T(1) + xv); });
    case UnaryOp::LogSigmoid:  // d/dx -softplus(-x) = sigmoid(-x)
      return map3(x, y, dy, dx, n, [](T xv, T, T g) { return g * sigmoid(-xv); });
  }
}

template <typename T>
void binary_forward(BinaryOp op, const T* a, const int64_t* aShape, int aRank, const T* b,
                    const int64_t* bShape, int bRank, T* out, const int64_t* outShape,
                    int outRank) {
  auto run = [&](auto f) {
    broadcast_apply(a, aShape, aRank, b, bShape, bRank, out, outShape, outRank, f);
  };
  switch (op) {
    case BinaryOp::Add: return run([](T u, T v) { return u + v; });
    case BinaryOp::Sub: return run([](T u, T v) { return u - v; });
    case BinaryOp::Mul: return run([](T u, T v) { return u * v; });
    case BinaryOp::Div: return run([](T u, T v) { return u / v; });
    case BinaryOp::Pow: return run([](T u, T v) { return std::pow(u, v); });
    case BinaryOp::Maximum: return run([](T u, T v) { return maximum(u, v); });
    case BinaryOp::Minimum: return run([](T u, T v) { return minimum(u, v); });
    case BinaryOp::Greater: return run([](T u, T v) { return u > v ? T(1) : T(0); });
    case BinaryOp::GreaterEqual: return run([](T u, T v) { return u >= v ? T(1) : T(0); });
    case BinaryOp::Less: return run([](T u, T v) { return u < v ? T(1) : T(0); });
    case BinaryOp::LessEqual: return run([](T u, T v) { return u <= v ? T(1) : T(0); });
    case BinaryOp::Equal: return run([](T u, T v) { return u == v ? T(1) : T(0); });
  }
}

#define GF_INSTANTIATE_ELEMENTWISE(T)                                                          \
  template void unary_forward<T>(UnaryOp, const T*, T*, int64_t, T, T);                        \
  template void unary_backward<T>(UnaryOp, const T*, const T*, const T*, T*, int64_t, T, T);   \
  template void binary_forward<T>(BinaryOp, const T*, const int64_t*, int, const T*,           \
                                  const int64_t*, int, T*, const int64_t*, int);
GF_INSTANTIATE_ELEMENTWISE(float)
GF_INSTANTIATE_ELEMENTWISE(double)

}  // namespace gf

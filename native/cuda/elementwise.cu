// Elementwise kernels (contract in cuda/elementwise.h): grid-stride loops, one element per
// thread per step, 64-bit indices, one kernel instance per op (the op is a template argument,
// so each loop body is the op alone). Memory-bound, so the simple form is within a few percent
// of vectorised loads on contiguous data; the grid is capped and strides over the rest.
// Broadcasting binary ops reuse the CPU's plan (cpu/elementwise.cc): dims of 1 dropped,
// dims contiguous in a, b and out merged; a plan of one dim (same shapes, scalar operand)
// runs without index division, others decompose the flat index over at most 8 dims.
// The math functions are the accurate ones (expf, expm1f, log1pf, powf: a few ulp), never
// the __expf-style intrinsics. It is not: vectorised (float4) or fused across ops.
#include "cuda/elementwise.h"

#include <math.h>

#include "cuda/check.h"
#include "cuda/launch.h"

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace elementwise_impl {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 8192;  // enough to fill any current GPU; the loop covers more

// The CPU's SELU constants, rounded to float as its T(kSeluScale) etc. are.
constexpr float kSeluScaleF = static_cast<float>(kSeluScale);
constexpr float kSeluAlphaF = static_cast<float>(kSeluAlpha);
constexpr float kSeluSaF = static_cast<float>(kSeluScale * kSeluAlpha);

__device__ __forceinline__ float sigmoid(float v) {
  if (v >= 0.0f) return 1.0f / (1.0f + expf(-v));
  const float e = expf(v);  // v < 0 (or NaN): e <= 1, no overflow
  return e / (1.0f + e);
}
// std::max(x, 0) / std::min(x, 0) as the CPU writes them: a NaN x comes back as x (fmaxf
// would give 0); the sum then is NaN either way, but the forms stay the CPU's.
__device__ __forceinline__ float max0(float v) { return v < 0.0f ? 0.0f : v; }
__device__ __forceinline__ float min0(float v) { return 0.0f < v ? 0.0f : v; }
__device__ __forceinline__ float sign(float v) { return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : v); }

template <UnaryOp OP>
__device__ __forceinline__ float forward1(float v, float alpha, float beta) {
  switch (OP) {
    case UnaryOp::Neg: return -v;
    case UnaryOp::Exp: return expf(v);
    case UnaryOp::Log: return logf(v);
    case UnaryOp::Sqrt: return sqrtf(v);
    case UnaryOp::Abs: return fabsf(v);
    case UnaryOp::Square: return v * v;
    case UnaryOp::Reciprocal: return 1.0f / v;
    case UnaryOp::Sign: return sign(v);
    case UnaryOp::Relu: return v < 0.0f ? 0.0f : v;
    case UnaryOp::LeakyRelu: return v > 0.0f ? v : alpha * v;
    case UnaryOp::Elu: return v > 0.0f ? v : alpha * expm1f(v);
    case UnaryOp::Selu: return kSeluScaleF * (v > 0.0f ? v : kSeluAlphaF * expm1f(v));
    case UnaryOp::Sigmoid: return sigmoid(v);
    case UnaryOp::Tanh: return tanhf(v);
    case UnaryOp::Softplus: return max0(v) + log1pf(expf(-fabsf(v)));
    case UnaryOp::Clip: {  // std::min(std::max(v, alpha), beta)
      const float m = v < alpha ? alpha : v;
      return beta < m ? beta : m;
    }
    case UnaryOp::PowScalar: return powf(v, alpha);
    case UnaryOp::Scale: return alpha * v + beta;
    case UnaryOp::Log1p: return log1pf(v);
    case UnaryOp::LogSigmoid: return min0(v) - log1pf(expf(-fabsf(v)));
  }
  return v;
}

// dx from x, y = f(x) and dy, with the CPU's formula for each op.
template <UnaryOp OP>
__device__ __forceinline__ float backward1(float x, float y, float g, float alpha, float beta) {
  switch (OP) {
    case UnaryOp::Neg: return -g;
    case UnaryOp::Exp: return g * y;
    case UnaryOp::Log: return g / x;
    case UnaryOp::Sqrt: return g * 0.5f / y;
    case UnaryOp::Abs: return g * sign(x);
    case UnaryOp::Square: return 2.0f * x * g;
    case UnaryOp::Reciprocal: return -g * y * y;
    case UnaryOp::Sign: return 0.0f;
    case UnaryOp::Relu: return x > 0.0f ? g : 0.0f;
    case UnaryOp::LeakyRelu: return x > 0.0f ? g : alpha * g;
    case UnaryOp::Elu: return x > 0.0f ? g : g * (y + alpha);  // alpha*e^x = y + alpha
    case UnaryOp::Selu: return x > 0.0f ? g * kSeluScaleF : g * (y + kSeluSaF);
    case UnaryOp::Sigmoid: return g * y * (1.0f - y);
    case UnaryOp::Tanh: return g * (1.0f - y * y);
    case UnaryOp::Softplus: return g * sigmoid(x);
    case UnaryOp::Clip: return (x >= alpha && x <= beta) ? g : 0.0f;  // bounds pass, as TF
    case UnaryOp::PowScalar: return alpha == 0.0f ? 0.0f : g * alpha * powf(x, alpha - 1.0f);
    case UnaryOp::Scale: return g * alpha;
    case UnaryOp::Log1p: return g / (1.0f + x);
    case UnaryOp::LogSigmoid: return g * sigmoid(-x);
  }
  return g;
}

template <BinaryOp OP>
__device__ __forceinline__ float binary1(float u, float v) {
  switch (OP) {
    case BinaryOp::Add: return u + v;
    case BinaryOp::Sub: return u - v;
    case BinaryOp::Mul: return u * v;
    case BinaryOp::Div: return u / v;
    case BinaryOp::Pow: return powf(u, v);
    case BinaryOp::Maximum: return u != u ? u : (v != v ? v : (u > v ? u : v));  // NaN wins
    case BinaryOp::Minimum: return u != u ? u : (v != v ? v : (u < v ? u : v));
    case BinaryOp::Greater: return u > v ? 1.0f : 0.0f;
    case BinaryOp::GreaterEqual: return u >= v ? 1.0f : 0.0f;
    case BinaryOp::Less: return u < v ? 1.0f : 0.0f;
    case BinaryOp::LessEqual: return u <= v ? 1.0f : 0.0f;
    case BinaryOp::Equal: return u == v ? 1.0f : 0.0f;
  }
  return u;
}

__device__ __forceinline__ int64_t first_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

template <UnaryOp OP>
__global__ void unary_kernel(const float* x, float* out, int64_t n, float alpha, float beta) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) out[i] = forward1<OP>(x[i], alpha, beta);
}

template <UnaryOp OP>
__global__ void unary_backward_kernel(const float* x, const float* y, const float* dy, float* dx,
                                      int64_t n, float alpha, float beta) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    dx[i] = backward1<OP>(x[i], y[i], dy[i], alpha, beta);
}

// The broadcast plan (as cpu/elementwise.cc's): out's merged dims, innermost last, and the
// element strides of a and b in each (0 where broadcast). Passed by value to the kernel.
struct Plan {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t sa[kMaxRank] = {};
  int64_t sb[kMaxRank] = {};
};

Plan make_plan(const int64_t* aShape, int aRank, const int64_t* bShape, int bRank,
               const int64_t* outShape, int outRank) {
  int64_t sa[kMaxRank], sb[kMaxRank];
  int64_t stA = 1, stB = 1;
  for (int i = outRank - 1; i >= 0; --i) {
    const int ia = i - (outRank - aRank), ib = i - (outRank - bRank);
    const int64_t da = ia >= 0 ? aShape[ia] : 1, db = ib >= 0 ? bShape[ib] : 1;
    sa[i] = da == 1 ? 0 : stA;
    sb[i] = db == 1 ? 0 : stB;
    stA *= da;
    stB *= db;
  }
  Plan p;
  for (int i = 0; i < outRank; ++i) {
    if (outShape[i] == 1) continue;  // contributes nothing to addressing
    if (p.rank > 0) {
      const int j = p.rank - 1;
      // Merge dim i into the previous kept dim when both operands step through them as one.
      if (p.sa[j] == sa[i] * outShape[i] && p.sb[j] == sb[i] * outShape[i]) {
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
  }
  return p;
}

// One merged dim: a and b are each contiguous (stride 1) or one value (stride 0).
template <BinaryOp OP>
__global__ void binary_flat_kernel(const float* a, int64_t sa, const float* b, int64_t sb, float* out,
                                   int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) out[i] = binary1<OP>(a[i * sa], b[i * sb]);
}

template <BinaryOp OP>
__global__ void binary_strided_kernel(const float* a, const float* b, float* out, int64_t n, Plan p) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t rem = i, oa = 0, ob = 0;
    for (int d = p.rank - 1; d > 0; --d) {
      const int64_t q = rem / p.dims[d], k = rem - q * p.dims[d];
      oa += k * p.sa[d];
      ob += k * p.sb[d];
      rem = q;
    }
    oa += rem * p.sa[0];
    ob += rem * p.sb[0];
    out[i] = binary1<OP>(a[oa], b[ob]);
  }
}

// blockIdx.y strides over rows, x over columns: no 64-bit division per element.
__global__ void bias_add_kernel(const float* x, const float* bias, float* out, int64_t rows,
                                int64_t cols, int relu) {
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
    const float* xr = x + r * cols;
    float* orow = out + r * cols;
    for (int64_t c = first_index(); c < cols; c += grid_stride()) {
      float v = xr[c];
      if (bias) v += bias[c];
      if (relu) v = v < 0.0f ? 0.0f : v;
      orow[c] = v;
    }
  }
}

// Every UnaryOp / BinaryOp once, for the launchers' switches.
#define GF_EW_UNARY_OPS(X)                                                                    \
  X(Neg) X(Exp) X(Log) X(Sqrt) X(Abs) X(Square) X(Reciprocal) X(Sign) X(Relu) X(LeakyRelu)    \
  X(Elu) X(Selu) X(Sigmoid) X(Tanh) X(Softplus) X(Clip) X(PowScalar) X(Scale) X(Log1p)        \
  X(LogSigmoid)
#define GF_EW_BINARY_OPS(X)                                                                   \
  X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Maximum) X(Minimum) X(Greater) X(GreaterEqual) X(Less) \
  X(LessEqual) X(Equal)

}  // namespace
}  // namespace elementwise_impl

bool unary_supported(UnaryOp op) {
#define GF_EW_CASE(name) case UnaryOp::name:
  switch (op) {
    GF_EW_UNARY_OPS(GF_EW_CASE)
    return true;
  }
#undef GF_EW_CASE
  return false;  // a value outside the enum (a bad cast at the binding)
}

cudaError_t unary_forward(UnaryOp op, const float* x, float* out, int64_t n, float alpha,
                          float beta, cudaStream_t stream) {
  using namespace elementwise_impl;
  if (!unary_supported(op)) return cudaErrorNotSupported;
  using Kernel = void (*)(const float*, float*, int64_t, float, float);
  Kernel k = nullptr;
#define GF_EW_CASE(name) \
  case UnaryOp::name: k = unary_kernel<UnaryOp::name>; break;
  switch (op) { GF_EW_UNARY_OPS(GF_EW_CASE) }
#undef GF_EW_CASE
  return launch_grid(k, n, kThreads, kMaxBlocks, stream, x, out, n, alpha, beta);
}

cudaError_t unary_forward(UnaryOp op, const float* x, float* out, int64_t n, cudaStream_t stream) {
  return unary_forward(op, x, out, n, 0.0f, 0.0f, stream);
}

cudaError_t unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx,
                           int64_t n, float alpha, float beta, cudaStream_t stream) {
  using namespace elementwise_impl;
  if (!unary_supported(op)) return cudaErrorNotSupported;
  using Kernel = void (*)(const float*, const float*, const float*, float*, int64_t, float, float);
  Kernel k = nullptr;
#define GF_EW_CASE(name) \
  case UnaryOp::name: k = unary_backward_kernel<UnaryOp::name>; break;
  switch (op) { GF_EW_UNARY_OPS(GF_EW_CASE) }
#undef GF_EW_CASE
  return launch_grid(k, n, kThreads, kMaxBlocks, stream, x, y, dy, dx, n, alpha, beta);
}

cudaError_t binary_forward(BinaryOp op, const float* a, const int64_t* aShape, int aRank,
                           const float* b, const int64_t* bShape, int bRank, float* out,
                           const int64_t* outShape, int outRank, cudaStream_t stream) {
  using namespace elementwise_impl;
  if (outRank < 0 || outRank > kMaxRank || aRank < 0 || aRank > outRank || bRank < 0 || bRank > outRank)
    return cudaErrorInvalidValue;
  int64_t total = 1;
  for (int i = 0; i < outRank; ++i) total *= outShape[i];
  if (total <= 0) return cudaSuccess;
  const Plan p = make_plan(aShape, aRank, bShape, bRank, outShape, outRank);
  if (p.rank == 1) {
    using Kernel = void (*)(const float*, int64_t, const float*, int64_t, float*, int64_t);
    Kernel k = nullptr;
#define GF_EW_CASE(name) \
  case BinaryOp::name: k = binary_flat_kernel<BinaryOp::name>; break;
    switch (op) { GF_EW_BINARY_OPS(GF_EW_CASE) }
#undef GF_EW_CASE
    if (!k) return cudaErrorNotSupported;
    return launch_grid(k, total, kThreads, kMaxBlocks, stream, a, p.sa[0], b, p.sb[0], out, total);
  } else {
    using Kernel = void (*)(const float*, const float*, float*, int64_t, Plan);
    Kernel k = nullptr;
#define GF_EW_CASE(name) \
  case BinaryOp::name: k = binary_strided_kernel<BinaryOp::name>; break;
    switch (op) { GF_EW_BINARY_OPS(GF_EW_CASE) }
#undef GF_EW_CASE
    if (!k) return cudaErrorNotSupported;
    return launch_grid(k, total, kThreads, kMaxBlocks, stream, a, b, out, total, p);
  }
}

cudaError_t bias_add_forward(const float* x, const float* bias, float* out, int64_t rows,
                             int64_t cols, bool relu, cudaStream_t stream) {
  using namespace elementwise_impl;
  if (rows <= 0 || cols <= 0) return cudaSuccess;
  const int64_t bx = (cols + kThreads - 1) / kThreads;
  // Enough blocks in all for the machine (x * y <= ~kMaxBlocks * 8), rows strided beyond.
  const int64_t by_cap = (kMaxBlocks * 8) / (bx < 64 ? bx : 64);
  const dim3 grid(static_cast<unsigned>(bx < 64 ? bx : 64),
                  static_cast<unsigned>(rows < by_cap ? rows : (by_cap < 65535 ? by_cap : 65535)));
  using Kernel = void (*)(const float*, const float*, float*, int64_t, int64_t, int);
  const Kernel k = bias_add_kernel;
  GF_LAUNCH(k, grid, dim3(kThreads), stream, x, bias, out, rows, cols, relu ? 1 : 0);
  return cudaGetLastError();
}

#undef GF_EW_UNARY_OPS
#undef GF_EW_BINARY_OPS

}  // namespace cuda
}  // namespace gf

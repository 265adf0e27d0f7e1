// sum/mean/max/min over the middle axis of (outer, n, inner), plus argmax/argmin.
// inner == 1 reduces contiguous rows (several independent accumulators so the adds pipeline);
// inner > 1 sweeps k in the outer loop and a block of up to 64 inner positions in the inner
// loop, so every access is contiguous. Work is split over (outer x inner blocks) for threads.
// Not here: validation (binding) or axis permutation (lib).
#include "cpu/reduce.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "cpu/threadpool.h"

namespace gf {
namespace {

constexpr int64_t kGrainElems = 1 << 15;  // input elements per parallel chunk
constexpr int64_t kBlock = 64;            // inner positions reduced together

// Accumulator type: float sums in double (cheap for a memory-bound loop, and it keeps
// mean/sum of long rows accurate); max/min are exact in T.
template <typename T> struct Acc { using type = double; };

template <typename T>
inline T pick_max(T acc, T v) { return (v > acc || v != v) ? v : acc; }  // NaN sticks
template <typename T>
inline T pick_min(T acc, T v) { return (v < acc || v != v) ? v : acc; }

template <typename T>
void reduce_sum_rows(const T* x, int64_t n, int64_t inner, T* out, int64_t count, bool mean) {
  using A = typename Acc<T>::type;
  const A scale = mean ? A(1) / A(n) : A(1);
  if (inner == 1) {
    A s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t k = 0;
    for (; k + 4 <= n; k += 4) {
      s0 += x[k]; s1 += x[k + 1]; s2 += x[k + 2]; s3 += x[k + 3];
    }
    for (; k < n; ++k) s0 += x[k];
    out[0] = static_cast<T>(((s0 + s1) + (s2 + s3)) * scale);
    return;
  }
  A acc[kBlock];
  std::fill(acc, acc + count, A(0));
  for (int64_t k = 0; k < n; ++k) {
    const T* row = x + k * inner;
    for (int64_t i = 0; i < count; ++i) acc[i] += row[i];
  }
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<T>(acc[i] * scale);
}

template <typename T, bool IsMax>
void reduce_ext_rows(const T* x, int64_t n, int64_t inner, T* out, int64_t count) {
  const T init = IsMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
  T acc[kBlock];
  std::fill(acc, acc + count, init);
  for (int64_t k = 0; k < n; ++k) {
    const T* row = x + k * inner;
    for (int64_t i = 0; i < count; ++i)
      acc[i] = IsMax ? pick_max(acc[i], row[i]) : pick_min(acc[i], row[i]);
  }
  std::copy(acc, acc + count, out);
}

}  // namespace

bool reduce_op_from_name(const char* name, ReduceOp* op) {
  if (!std::strcmp(name, "sum")) *op = ReduceOp::Sum;
  else if (!std::strcmp(name, "mean")) *op = ReduceOp::Mean;
  else if (!std::strcmp(name, "max")) *op = ReduceOp::Max;
  else if (!std::strcmp(name, "min")) *op = ReduceOp::Min;
  else return false;
  return true;
}

bool arg_reduce_op_from_name(const char* name, ArgReduceOp* op) {
  if (!std::strcmp(name, "argmax")) *op = ArgReduceOp::ArgMax;
  else if (!std::strcmp(name, "argmin")) *op = ArgReduceOp::ArgMin;
  else return false;
  return true;
}

template <typename T>
void reduce(ReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner, T* out) {
  if (outer == 0 || inner == 0) return;
  if (n == 0) {
    T v = op == ReduceOp::Sum ? T(0)
        : op == ReduceOp::Mean ? std::numeric_limits<T>::quiet_NaN()
        : op == ReduceOp::Max ? -std::numeric_limits<T>::infinity()
        : std::numeric_limits<T>::infinity();
    std::fill(out, out + outer * inner, v);
    return;
  }
  // Work unit: one (o, inner block) pair; it reads n * block elements.
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  const int64_t units = outer * blocks;
  const int64_t per_unit = n * std::min(inner, kBlock);
  const int64_t grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, per_unit));
  parallel_for(units, grain, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t o = u / blocks, i0 = (u % blocks) * kBlock;
      const int64_t count = std::min(kBlock, inner - i0);
      const T* xs = x + o * n * inner + i0;
      T* os = out + o * inner + i0;
      switch (op) {
        case ReduceOp::Sum: reduce_sum_rows(xs, n, inner, os, count, false); break;
        case ReduceOp::Mean: reduce_sum_rows(xs, n, inner, os, count, true); break;
        case ReduceOp::Max: reduce_ext_rows<T, true>(xs, n, inner, os, count); break;
        case ReduceOp::Min: reduce_ext_rows<T, false>(xs, n, inner, os, count); break;
      }
    }
  });
}

template <typename T>
void arg_reduce(ArgReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner,
                int32_t* out) {
  const bool is_max = op == ArgReduceOp::ArgMax;
  const int64_t units = outer * inner;
  const int64_t grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, n));
  parallel_for(units, grain, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t o = u / inner, i = u % inner;
      const T* xs = x + o * n * inner + i;
      T best = xs[0];
      int64_t best_k = 0;
      for (int64_t k = 1; k < n && best == best; ++k) {  // stop at the first NaN
        const T v = xs[k * inner];
        if (v != v || (is_max ? v > best : v < best)) {
          best = v;
          best_k = k;
        }
      }
      out[u] = static_cast<int32_t>(best_k);
    }
  });
}

template void reduce<float>(ReduceOp, const float*, int64_t, int64_t, int64_t, float*);
template void reduce<double>(ReduceOp, const double*, int64_t, int64_t, int64_t, double*);
template void arg_reduce<float>(ArgReduceOp, const float*, int64_t, int64_t, int64_t, int32_t*);
template void arg_reduce<double>(ArgReduceOp, const double*, int64_t, int64_t, int64_t,
                                 int32_t*);

}  // namespace gf

// Generalized transpose. Steps: express each output axis by its stride in x; drop size-1 axes
// and merge output axes that are also adjacent in x (so e.g. (N,H,W,C)->(N,C,H,W) becomes a
// batch of 2-D transposes). If the innermost axis stays innermost, copy contiguous runs.
// Otherwise copy 32x32 tiles between the output's last axis and the axis that is x's innermost,
// so both reads and writes stay in cache. Threads split rows/tiles for large arrays.
// Not here: validation (binding). x and out must not overlap.
#include "cpu/permute.h"

#include <algorithm>
#include <cstring>

#include "cpu/threadpool.h"

namespace gf {
namespace {
constexpr int kMaxDims = 8;
constexpr int64_t kTile = 32;
constexpr int64_t kGrainElems = 1 << 15;
}  // namespace

template <typename T>
void permute(const T* x, const int64_t* shape, const int* perm, int rank, T* out) {
  int64_t total = 1;
  for (int i = 0; i < rank; ++i) total *= shape[i];
  if (total == 0) return;

  int64_t in_stride[kMaxDims];
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; --i) {
    in_stride[i] = s;
    s *= shape[i];
  }
  // Output axes (in output order), after dropping 1s and merging: size and stride in x.
  int nd = 0;
  int64_t dim[kMaxDims], ist[kMaxDims];
  for (int i = 0; i < rank; ++i) {
    const int64_t d = shape[perm[i]], st = in_stride[perm[i]];
    if (d == 1) continue;
    if (nd > 0 && ist[nd - 1] == st * d) {  // previous output axis steps as one with this one
      dim[nd - 1] *= d;
      ist[nd - 1] = st;
      continue;
    }
    dim[nd] = d;
    ist[nd] = st;
    ++nd;
  }
  if (nd <= 1) {  // identity order (or a single element): plain copy
    std::memcpy(out, x, sizeof(T) * total);
    return;
  }
  int64_t ost[kMaxDims];  // output strides
  s = 1;
  for (int i = nd - 1; i >= 0; --i) {
    ost[i] = s;
    s *= dim[i];
  }
  const int last = nd - 1;

  if (ist[last] == 1) {
    // Innermost axis unchanged: copy runs of dim[last] elements.
    const int64_t inner = dim[last], rows = total / inner;
    parallel_for(rows, std::max<int64_t>(1, kGrainElems / inner), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        int64_t rem = r, off = 0;
        for (int d = last - 1; d >= 0; --d) {
          off += (rem % dim[d]) * ist[d];
          rem /= dim[d];
        }
        std::memcpy(out + r * inner, x + off, sizeof(T) * inner);
      }
    });
    return;
  }

  // x's innermost axis (stride 1) is output axis q < last: tile the (q, last) plane.
  int q = 0;
  while (ist[q] != 1) ++q;
  const int64_t nq = dim[q], nl = dim[last];
  const int64_t qtiles = (nq + kTile - 1) / kTile;
  const int64_t planes = total / (nq * nl);
  const int64_t units = planes * qtiles;
  const int64_t per_unit = kTile * nl;
  parallel_for(units, std::max<int64_t>(1, kGrainElems / per_unit), [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t plane = u / qtiles, qt = u % qtiles;
      // Offsets of this plane: decompose over every axis except q and last.
      int64_t rem = plane, ioff = 0, ooff = 0;
      for (int d = last - 1; d >= 0; --d) {
        if (d == q) continue;
        const int64_t id = rem % dim[d];
        rem /= dim[d];
        ioff += id * ist[d];
        ooff += id * ost[d];
      }
      const int64_t i0 = qt * kTile, i1 = std::min(nq, i0 + kTile);
      const int64_t sl = ist[last], sq = ost[q];
      for (int64_t j0 = 0; j0 < nl; j0 += kTile) {
        const int64_t j1 = std::min(nl, j0 + kTile);
        for (int64_t i = i0; i < i1; ++i) {
          T* o = out + ooff + i * sq;
          const T* in = x + ioff + i;
          for (int64_t j = j0; j < j1; ++j) o[j] = in[j * sl];
        }
      }
    }
  });
}

// plan_box's runs of the last (merged) axis, one memcpy each.
void copy_box(const void* src, const int64_t* src_shape, const int64_t* src_start, void* dst,
              const int64_t* dst_shape, const int64_t* dst_start, const int64_t* size, int rank,
              int elem_bytes) {
  for (int i = 0; i < rank; ++i)
    if (size[i] == 0) return;
  const BoxPlan p = plan_box(src_shape, src_start, dst_shape, dst_start, size, rank);
  const uint8_t* s = static_cast<const uint8_t*>(src) + p.src_base * elem_bytes;
  uint8_t* d = static_cast<uint8_t*>(dst) + p.dst_base * elem_bytes;
  if (p.nd == 0) {
    std::memcpy(d, s, elem_bytes);
    return;
  }
  const int last = p.nd - 1;
  const int64_t run = p.size[last] * elem_bytes;
  int64_t idx[BoxPlan::kMaxRank] = {};
  for (;;) {
    int64_t so = 0, dof = 0;
    for (int i = 0; i < last; ++i) {
      so += idx[i] * p.src_stride[i];
      dof += idx[i] * p.dst_stride[i];
    }
    std::memcpy(d + dof * elem_bytes, s + so * elem_bytes, run);
    int k = last - 1;
    while (k >= 0 && ++idx[k] == p.size[k]) idx[k--] = 0;
    if (k < 0) return;
  }
}

void fill_elements(void* dst, int64_t n, uint64_t bits, int elem_bytes) {
  if (elem_bytes == 8) {
    uint64_t* d = static_cast<uint64_t*>(dst);
    std::fill(d, d + n, bits);
  } else {
    uint32_t* d = static_cast<uint32_t*>(dst);
    std::fill(d, d + n, static_cast<uint32_t>(bits));
  }
}

template void permute<float>(const float*, const int64_t*, const int*, int, float*);
template void permute<double>(const double*, const int64_t*, const int*, int, double*);
template void permute<int32_t>(const int32_t*, const int64_t*, const int*, int, int32_t*);

}  // namespace gf

// Moving data without arithmetic, for lib/ops/shape.ts: axis permutation (generalized
// transpose) and box copies (slice, pad and concat) of dense row-major arrays of any element
// type. It is: copies that reorder axes (tiled when the innermost axis moves) or move a box of
// one array into another (runs of the innermost axes as memcpy). It is not: a view mechanism
// (lib decides when a copy is needed) or validation (binding checks perm, boxes and sizes).
#pragma once
#include <cstdint>

namespace gf {

// out.shape[i] = shape[perm[i]]; out[idx] = x[idx permuted back]. rank <= 8. out != x.
template <typename T>
void permute(const T* x, const int64_t* shape, const int* perm, int rank, T* out);

extern template void permute<float>(const float*, const int64_t*, const int*, int, float*);
extern template void permute<double>(const double*, const int64_t*, const int*, int, double*);
extern template void permute<int32_t>(const int32_t*, const int64_t*, const int*, int, int32_t*);

// A box copy as the kernels run it (here and in native/cuda/permute.cu): trailing axes that
// both arrays hold whole (box = shape there, so the starts are 0) merged into the axis before
// them, so a concat along axis 0 or a slice of leading rows is one run; then per remaining
// axis its size and its strides in src and in dst, and the offsets of the box's first element.
struct BoxPlan {
  static constexpr int kMaxRank = 8;
  int nd = 0;
  int64_t size[kMaxRank] = {};
  int64_t src_stride[kMaxRank] = {};
  int64_t dst_stride[kMaxRank] = {};
  int64_t src_base = 0, dst_base = 0;
};

// rank in [0, 8]; rank 0 gives nd 0 (one element at the bases).
inline BoxPlan plan_box(const int64_t* src_shape, const int64_t* src_start, const int64_t* dst_shape,
                        const int64_t* dst_start, const int64_t* size, int rank) {
  int64_t ss[BoxPlan::kMaxRank], ds[BoxPlan::kMaxRank], s0[BoxPlan::kMaxRank], d0[BoxPlan::kMaxRank];
  BoxPlan p;
  for (int i = 0; i < rank; ++i) {
    p.size[i] = size[i];
    ss[i] = src_shape[i];
    ds[i] = dst_shape[i];
    s0[i] = src_start[i];
    d0[i] = dst_start[i];
  }
  int nd = rank;
  while (nd > 1 && p.size[nd - 1] == ss[nd - 1] && p.size[nd - 1] == ds[nd - 1]) {
    const int64_t n = p.size[nd - 1];
    p.size[nd - 2] *= n;
    ss[nd - 2] *= n;
    ds[nd - 2] *= n;
    s0[nd - 2] *= n;
    d0[nd - 2] *= n;
    --nd;
  }
  p.nd = nd;
  int64_t a = 1, b = 1;
  for (int i = nd - 1; i >= 0; --i) {
    p.src_stride[i] = a;
    p.dst_stride[i] = b;
    p.src_base += s0[i] * a;
    p.dst_base += d0[i] * b;
    a *= ss[i];
    b *= ds[i];
  }
  return p;
}

// dst[dst_start + i] = src[src_start + i] for every index i of the box `size` (rank axes,
// rank <= 8; rank 0 copies one element): src has shape src_shape, dst has dst_shape, and the
// box lies inside both. Elements of elem_bytes bytes (4 or 8) move bit for bit; the rest of
// dst is untouched. src and dst must not overlap.
void copy_box(const void* src, const int64_t* src_shape, const int64_t* src_start, void* dst,
              const int64_t* dst_shape, const int64_t* dst_start, const int64_t* size, int rank,
              int elem_bytes);

// Sets n elements of elem_bytes bytes (4 or 8) to the low elem_bytes bytes of `bits`.
void fill_elements(void* dst, int64_t n, uint64_t bits, int elem_bytes);

}  // namespace gf

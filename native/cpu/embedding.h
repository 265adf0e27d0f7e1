// Rows gathered by index and their gradient, for lib/ops/shape.ts's gatherRows (minibatches,
// Embedding, Bidirectional's time reversal): the CPU twin of native/cuda/embedding.h.
// It is: out[i, :] = x[ids[i], :] for rows of row_len elements of any element size, and
// the scatter-add out[ids[i], :] += g[i, :] in the order of i (so the sums are the same bits
// on every run). It is not: validation (the binding checks every id against the rows).
#pragma once
#include <cstdint>

namespace gf {

// x: (rows, row_len) elements of elem_bytes bytes; out: (n, row_len); ids[i] in [0, rows).
void gather_rows(const void* x, int64_t row_len, const int32_t* ids, int64_t n, void* out,
                 int elem_bytes);

// out (rows, row_len) += g (n, row_len) scattered by ids; out is not cleared first.
template <typename T>
void scatter_add_rows(const T* g, int64_t row_len, const int32_t* ids, int64_t n, T* out);

extern template void scatter_add_rows<float>(const float*, int64_t, const int32_t*, int64_t, float*);
extern template void scatter_add_rows<double>(const double*, int64_t, const int32_t*, int64_t, double*);

}  // namespace gf

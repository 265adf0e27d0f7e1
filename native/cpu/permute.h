// Axis permutation (generalized transpose) of a dense row-major array of any element type.
// It is: a copy that reorders axes, tiled when the innermost axis moves. It is not: a view
// mechanism (lib decides when a copy is needed) or validation (binding checks perm and sizes).
#pragma once
#include <cstdint>

namespace gf {

// out.shape[i] = shape[perm[i]]; out[idx] = x[idx permuted back]. rank <= 8. out != x.
template <typename T>
void permute(const T* x, const int64_t* shape, const int* perm, int rank, T* out);

extern template void permute<float>(const float*, const int64_t*, const int*, int, float*);
extern template void permute<double>(const double*, const int64_t*, const int*, int, double*);
extern template void permute<int32_t>(const int32_t*, const int64_t*, const int*, int, int32_t*);

}  // namespace gf

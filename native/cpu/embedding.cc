// Row gather and scatter-add (contract in cpu/embedding.h). Rows are small (an embedding's
// width, a timestep's features) and the calls are one per batch, so plain loops: a memcpy
// per gathered row, and an add per element in index order for the scatter.
#include "cpu/embedding.h"

#include <cstring>

namespace gf {

void gather_rows(const void* x, int64_t row_len, const int32_t* ids, int64_t n, void* out,
                 int elem_bytes) {
  const uint8_t* src = static_cast<const uint8_t*>(x);
  uint8_t* dst = static_cast<uint8_t*>(out);
  const int64_t row_bytes = row_len * elem_bytes;
  if (row_bytes == 0) return;
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(dst + i * row_bytes, src + static_cast<int64_t>(ids[i]) * row_bytes, row_bytes);
}

template <typename T>
void scatter_add_rows(const T* g, int64_t row_len, const int32_t* ids, int64_t n, T* out) {
  for (int64_t i = 0; i < n; ++i) {
    T* o = out + static_cast<int64_t>(ids[i]) * row_len;
    const T* gi = g + i * row_len;
    for (int64_t k = 0; k < row_len; ++k) o[k] += gi[k];
  }
}

template void scatter_add_rows<float>(const float*, int64_t, const int32_t*, int64_t, float*);
template void scatter_add_rows<double>(const double*, int64_t, const int32_t*, int64_t, double*);

}  // namespace gf

// gather_rows and scatter_add_rows vs the reference at odd row lengths and counts, with
// repeated ids (the scatter must add in index order: the same bits as the reference's loop),
// empty rows and no ids; nothing past the end may be written, the gather moves 4- and 8-byte
// elements bit for bit.
#include <string>
#include <vector>

#include "cpu/embedding.h"
#include "ref/ref.h"
#include "tests/test_util.h"

using namespace gf;
using namespace gf::test;

namespace {

template <typename T>
void run(int64_t rows, int64_t row_len, int64_t n) {
  std::vector<int32_t> ids(n);
  std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(rows - 1));
  for (auto& v : ids) v = id(rng());
  std::vector<T> x(rows * row_len), g(n * row_len);
  std::uniform_real_distribution<double> u(-2, 2);
  for (auto& v : x) v = static_cast<T>(u(rng()));
  for (auto& v : g) v = static_cast<T>(u(rng()));
  const std::string what = "sizeof(T)=" + std::to_string(sizeof(T)) + " rows " +
                           std::to_string(rows) + " row_len " + std::to_string(row_len) +
                           " n " + std::to_string(n);

  std::vector<T> got(n * row_len + 2, T(-99)), want(n * row_len + 2, T(-99));
  gather_rows(x.data(), row_len, ids.data(), n, got.data(), int(sizeof(T)));
  ref::gather_rows<T>(x.data(), row_len, ids.data(), n, want.data());
  check(got == want, "gather_rows " + what);

  std::vector<T> acc(rows * row_len + 2), acc_ref;
  for (auto& v : acc) v = static_cast<T>(u(rng()));  // not cleared first: it adds
  acc_ref = acc;
  scatter_add_rows<T>(g.data(), row_len, ids.data(), n, acc.data());
  ref::scatter_add_rows<T>(g.data(), row_len, ids.data(), n, acc_ref.data());
  check(acc == acc_ref, "scatter_add_rows " + what);
}

void run_int(int64_t rows, int64_t row_len, int64_t n) {
  std::vector<int32_t> ids(n), x(rows * row_len);
  for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<int32_t>((i * 7 + 3) % rows);
  for (int64_t i = 0; i < rows * row_len; ++i) x[i] = static_cast<int32_t>(i * 31 - 1000);
  std::vector<int32_t> got(n * row_len + 2, -99), want(n * row_len + 2, -99);
  gather_rows(x.data(), row_len, ids.data(), n, got.data(), 4);
  ref::gather_rows<int32_t>(x.data(), row_len, ids.data(), n, want.data());
  check(got == want, "gather_rows int32 rows " + std::to_string(rows));
}

}  // namespace

int main() {
  for (int64_t rows : {1, 3, 17, 101})
    for (int64_t row_len : {0, 1, 5, 33})
      for (int64_t n : {0, 1, 7, 64, 131}) {
        run<float>(rows, row_len, n);
        run<double>(rows, row_len, n);
        run_int(rows, row_len, n);
      }
  return finish("test_embedding");
}

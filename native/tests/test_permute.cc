// permute vs the reference index-math version: random shapes of rank 0..8 (with 1s and 0s),
// every permutation for small ranks and random ones beyond, the common layout changes
// (NHWC <-> NCHW, 2-D transposes large enough to tile and thread), float, double and int32.
// Results must be bit-identical (it is a copy), and nothing past the end may be written.
#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "cpu/permute.h"
#include "cpu/threadpool.h"
#include "ref/ref.h"
#include "tests/test_util.h"

using namespace gf;
using namespace gf::test;

namespace {

std::string vec_str(const std::vector<int64_t>& v) {
  std::string r = "[";
  for (size_t i = 0; i < v.size(); ++i) r += (i ? "," : "") + std::to_string(v[i]);
  return r + "]";
}

template <typename T>
void run(const std::vector<int64_t>& shape, const std::vector<int>& perm) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<T> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<T>(i * 7 % 1000003 - 500);
  std::vector<T> got(n + 2, T(-99)), want(n + 2, T(-99));
  permute<T>(x.data(), shape.data(), perm.data(), int(shape.size()), got.data());
  ref::permute<T>(x.data(), shape.data(), perm.data(), int(shape.size()), want.data());
  ++checks();
  if (got != want) {
    std::vector<int64_t> p(perm.begin(), perm.end());
    fail(std::string("permute sizeof(T)=") + std::to_string(sizeof(T)) + " shape " +
         vec_str(shape) + " perm " + vec_str(p));
  }
}

template <typename T>
void test_all() {
  // Every permutation of small shapes with odd sizes, 1s and a 0.
  const std::vector<std::vector<int64_t>> shapes = {
      {}, {7}, {0}, {7, 17}, {1, 33}, {33, 1}, {3, 0, 5}, {2, 3, 5}, {7, 1, 17}, {4, 1, 3, 5},
      {2, 3, 4, 5}, {3, 1, 5, 1, 2}};
  for (const auto& s : shapes) {
    std::vector<int> perm(s.size());
    std::iota(perm.begin(), perm.end(), 0);
    do run<T>(s, perm);
    while (std::next_permutation(perm.begin(), perm.end()));
  }
  // Random shapes up to rank 8.
  std::uniform_int_distribution<int> dim(1, 4);
  for (int t = 0; t < 60; ++t) {
    const int rank = 3 + t % 6;
    std::vector<int64_t> s(rank);
    for (auto& d : s) d = dim(rng());
    std::vector<int> perm(rank);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng());
    run<T>(s, perm);
  }
  // Layouts that matter in practice; big enough for the tiled and threaded paths.
  run<T>({257, 1031}, {1, 0});
  run<T>({100, 33}, {1, 0});
  run<T>({8, 17, 19, 33}, {0, 3, 1, 2});   // NHWC -> NCHW
  run<T>({8, 33, 17, 19}, {0, 2, 3, 1});   // NCHW -> NHWC
  run<T>({3, 100, 257}, {2, 1, 0});
  run<T>({5, 64, 70}, {0, 2, 1});           // batch of transposes
  run<T>({300, 7, 100}, {1, 0, 2});         // innermost axis stays: contiguous runs
}

}  // namespace

int main() {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    test_all<float>();
    test_all<double>();
    test_all<int32_t>();
  }
  return finish("test_permute");
}

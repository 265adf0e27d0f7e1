// permute vs the reference index-math version: random shapes of rank 0..8 (with 1s and 0s),
// every permutation for small ranks and random ones beyond, the common layout changes
// (NHWC <-> NCHW, 2-D transposes large enough to tile and thread), float, double and int32.
// Results must be bit-identical (it is a copy), and nothing past the end may be written.
// copy_box vs the reference over random boxes of random shapes (rank 0..8, with 1s, 0s and
// boxes that span whole trailing axes, so the merged memcpy runs are reached), the rest of
// the destination untouched.
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

// One random box: shapes of `rank` axes, a box inside both at random starts; whole-axis boxes
// (start 0, size = both shapes) are drawn often so the trailing-axis merge is exercised.
template <typename T>
void run_box(int rank) {
  std::uniform_int_distribution<int> dim(0, 6), coin(0, 2);
  std::vector<int64_t> ss(rank), ds(rank), s0(rank), d0(rank), sz(rank);
  int64_t ns = 1, nd = 1;
  for (int i = 0; i < rank; ++i) {
    sz[i] = dim(rng()) == 0 ? 0 : std::uniform_int_distribution<int>(1, 5)(rng());
    if (coin(rng()) == 0) {
      ss[i] = ds[i] = sz[i];
    } else {
      ss[i] = sz[i] + std::uniform_int_distribution<int>(0, 3)(rng());
      ds[i] = sz[i] + std::uniform_int_distribution<int>(0, 3)(rng());
    }
    s0[i] = std::uniform_int_distribution<int64_t>(0, ss[i] - sz[i])(rng());
    d0[i] = std::uniform_int_distribution<int64_t>(0, ds[i] - sz[i])(rng());
    ns *= ss[i];
    nd *= ds[i];
  }
  std::vector<T> src(ns);
  for (int64_t i = 0; i < ns; ++i) src[i] = static_cast<T>(i * 13 % 100003 - 700);
  std::vector<T> got(nd + 2, T(-99)), want(nd + 2, T(-99));
  copy_box(src.data(), ss.data(), s0.data(), got.data(), ds.data(), d0.data(), sz.data(), rank,
           int(sizeof(T)));
  ref::copy_box<T>(src.data(), ss.data(), s0.data(), want.data(), ds.data(), d0.data(), sz.data(),
                   rank);
  ++checks();
  if (got != want)
    fail("copy_box sizeof(T)=" + std::to_string(sizeof(T)) + " src " + vec_str(ss) + " at " +
         vec_str(s0) + " dst " + vec_str(ds) + " at " + vec_str(d0) + " box " + vec_str(sz));
}

int main() {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    test_all<float>();
    test_all<double>();
    test_all<int32_t>();
  }
  for (int t = 0; t < 600; ++t) {
    run_box<float>(t % 9);
    run_box<double>(t % 9);
    run_box<int32_t>(t % 9);
  }
  return finish("test_permute");
}

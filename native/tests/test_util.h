// Tiny helpers shared by the C++ kernel tests: seeded random data, tolerant comparison (NaN
// equals NaN, Inf equals Inf of the same sign), and failure counting with readable messages.
// Each test binary returns finish()'s value, non-zero when any check failed.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

namespace gf {
namespace test {

inline int& failures() { static int n = 0; return n; }
inline long& checks() { static long n = 0; return n; }

// Records a failure; prints only the first few in detail so a broken kernel stays readable.
inline void fail(const std::string& msg) {
  if (++failures() <= 25) std::fprintf(stderr, "FAIL: %s\n", msg.c_str());
}

inline void check(bool ok, const std::string& msg) {
  ++checks();
  if (!ok) fail(msg);
}

inline int finish(const char* name) {
  if (failures() == 0) {
    std::printf("%s: all %ld checks passed\n", name, checks());
    return 0;
  }
  std::fprintf(stderr, "%s: %d of %ld checks FAILED\n", name, failures(), checks());
  return 1;
}

inline std::mt19937_64& rng() {
  static std::mt19937_64 r(12345);
  return r;
}

// One of xs, drawn from rng() (random test shapes).
template <typename V>
V pick(std::initializer_list<V> xs) {
  std::uniform_int_distribution<size_t> d(0, xs.size() - 1);
  return *(xs.begin() + d(rng()));
}

template <typename T>
std::vector<T> random_vec(size_t n, double lo = -1.0, double hi = 1.0) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng()));
  return v;
}

inline bool same_special(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return false;
}

// |got - want| <= atol + rtol * |want|, with NaN == NaN and matching infinities.
inline bool close(double got, double want, double atol, double rtol) {
  if (std::isnan(got) || std::isnan(want) || std::isinf(got) || std::isinf(want))
    return same_special(got, want);
  return std::fabs(got - want) <= atol + rtol * std::fabs(want);
}

// Compares two arrays element by element; reports the first mismatch with its index.
template <typename T>
bool check_close(const T* got, const T* want, size_t n, double atol, double rtol,
                 const std::string& what) {
  ++checks();
  for (size_t i = 0; i < n; ++i) {
    if (!close(got[i], want[i], atol, rtol)) {
      char buf[160];
      std::snprintf(buf, sizeof buf, " at [%zu]: got %.9g want %.9g (atol %.3g rtol %.3g)", i,
                    double(got[i]), double(want[i]), atol, rtol);
      fail(what + buf);
      return false;
    }
  }
  return true;
}

template <typename T> constexpr double eps() { return sizeof(T) == 4 ? 1.1920929e-7 : 2.220446e-16; }
template <typename T> const char* type_name() { return sizeof(T) == 4 ? "float" : "double"; }

}  // namespace test
}  // namespace gf

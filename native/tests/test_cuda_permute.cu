// CUDA permute (native/cuda/permute.cu) against the reference ref::permute (the CPU contract
// of native/cpu/permute.h as a direct loop), bit for bit: Float32 data (random values with NaN
// payloads of both signs, +-Inf, -0 and denormals mixed in) and Int32 data (random words over
// the whole range, so many are NaN patterns as floats). Ranks 0 to 8: rank 0 (one element),
// rank 1, both rank-2 perms and every rank-3 and rank-4 perm over odd shapes with size-1 dims,
// random shapes and perms for ranks 4..8, identity perms of every rank, NHWC <-> NCHW, and
// shapes that reach each kernel (flat copy, gather, 32x32 tiles with partial edge tiles, a
// thin plane under the tile threshold); some inputs start one word past an allocation's start.
// Outputs start as NaN with guard words after them that must stay; the input must be left
// unchanged. Empty arrays launch nothing; a bad rank, a perm that is not a permutation, a
// negative dim, elem_bytes other than 4 and out == x return cudaErrorInvalidValue and leave the
// output untouched. On a device (not small mode) also large shapes and one array of more than
// 2^31 elements (the 64-bit index path; skipped with a note when the memory is not there).
// copy_box (slice, pad, concat) against ref::copy_box the same way: random boxes in random
// source and destination shapes of ranks 0 to 8 (with 1s, 0s, boxes spanning whole trailing
// axes so the host's axis merge runs, and offset inputs); the destination starts as random
// words, and everything outside the box must keep them (or, with a fill word, hold it), the
// guard after it untouched; a bad rank
// or elem_bytes returns cudaErrorInvalidValue.
// No device: "SKIP: <reason>", exit 77. GF_CUDA_SMALL=1 (and the emulation): small shapes only.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "cuda/permute.h"
#include "cuda/testing.h"
#include "ref/ref.h"
#include "tests/test_util.h"

// GF_CUDA_EMULATED_TEST: also runs over the host emulation (test_cuda_emulated permute).
namespace permute_test {

using namespace gf;
using namespace gf::test;
namespace ct = gf::cuda::testing;

constexpr size_t kGuard = 8;
constexpr uint32_t kPoisonBits = 0x7FC00000u;  // the quiet NaN ct::poisoned_output writes

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

// n input words; never the output poison (a skipped write would pass) nor the guard pattern.
std::vector<uint32_t> input_words(size_t n, bool ints) {
  std::vector<uint32_t> w(n);
  if (ints) {
    std::uniform_int_distribution<uint32_t> d;
    for (auto& v : w) v = d(rng());
  } else {
    const std::vector<float> f = random_vec<float>(n);
    const uint32_t special[] = {0x7FC00001u, 0xFFC00002u, 0x7F800000u, 0xFF800000u, 0x80000000u, 0x00000001u};
    for (size_t i = 0; i < n; ++i) w[i] = i % 7 == 3 ? special[(i / 7) % 6] : bits_of(f[i]);
  }
  for (auto& v : w)
    if (v == kPoisonBits || v == 0xFFFFFFFFu) v ^= 0x10u;
  return w;
}

// Words to device index `offset` of a buffer of offset + n + kGuard words, the rest 0xFF bytes.
bool upload_words(const std::vector<uint32_t>& h, size_t offset, cudaStream_t stream, cuda::DeviceBuffer* buf,
                  uint32_t** p) {
  const size_t total = offset + h.size() + kGuard;
  if (!ct::ok(buf->allocate(total * sizeof(uint32_t), stream), "allocate")) return false;
  uint32_t* base = buf->as<uint32_t>();
  if (!ct::ok(cudaMemsetAsync(base, 0xFF, total * sizeof(uint32_t), stream), "cudaMemsetAsync")) return false;
  if (!h.empty() && !ct::ok(cudaMemcpyAsync(base + offset, h.data(), h.size() * sizeof(uint32_t),
                                            cudaMemcpyHostToDevice, stream),
                            "cudaMemcpyAsync H2D"))
    return false;
  *p = base + offset;
  return true;
}

bool download_words(const uint32_t* p, size_t n, cudaStream_t stream, std::vector<uint32_t>* h) {
  h->assign(n, 0);
  if (n && !ct::ok(cudaMemcpyAsync(h->data(), p, n * sizeof(uint32_t), cudaMemcpyDeviceToHost, stream),
                   "cudaMemcpyAsync D2H"))
    return false;
  return ct::ok(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
}

// One check: got == want word for word; a failure names the first word that differs.
void expect_words(const std::vector<uint32_t>& got, const std::vector<uint32_t>& want, const std::string& what) {
  ++checks();
  for (size_t i = 0; i < want.size(); ++i)
    if (got[i] != want[i]) {
      char buf[120];
      std::snprintf(buf, sizeof buf, " at [%zu]: got 0x%08x want 0x%08x", i, got[i], want[i]);
      fail(what + buf);
      return;
    }
}

std::string describe(const std::vector<int64_t>& shape, const std::vector<int>& perm, bool ints) {
  std::string s = std::string("permute ") + (ints ? "int32" : "float32") + " shape (";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  s += ") perm (";
  for (size_t i = 0; i < perm.size(); ++i) s += (i ? "," : "") + std::to_string(perm[i]);
  return s + ")";
}

size_t count(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

void run_case(const std::vector<int64_t>& shape, const std::vector<int>& perm, bool ints, size_t offset,
              cudaStream_t stream) {
  const std::string what = describe(shape, perm, ints) + (offset ? " (x offset 1)" : "");
  const int rank = static_cast<int>(shape.size());
  const size_t n = count(shape);
  const std::vector<uint32_t> x = input_words(n, ints);
  std::vector<uint32_t> want(n);
  if (ints) {
    ref::permute<int32_t>(reinterpret_cast<const int32_t*>(x.data()), shape.data(), perm.data(), rank,
                          reinterpret_cast<int32_t*>(want.data()));
  } else {
    std::vector<float> xf(n), wf(n);
    std::memcpy(xf.data(), x.data(), n * sizeof(float));
    ref::permute<float>(xf.data(), shape.data(), perm.data(), rank, wf.data());
    std::memcpy(want.data(), wf.data(), n * sizeof(float));
  }
  cuda::DeviceBuffer bx, bout;
  uint32_t* px;
  float* pout;
  if (!upload_words(x, offset, stream, &bx, &px) || !ct::poisoned_output(n, kGuard, stream, &bout, &pout)) return;
  if (!ct::ok(cuda::permute(px, shape.data(), perm.data(), rank, 4, pout, stream), what)) return;
  std::vector<uint32_t> got, xafter;
  if (!download_words(reinterpret_cast<const uint32_t*>(pout), n, stream, &got)) return;
  expect_words(got, want, what);
  ct::guard_intact(pout, n, kGuard, stream, what + " (guard)");
  if (!download_words(px, n, stream, &xafter)) return;
  expect_words(xafter, x, what + " (x unchanged)");
}

// Every perm of rank shape.size(), both data types.
void all_perms(const std::vector<int64_t>& shape, cudaStream_t stream) {
  std::vector<int> perm(shape.size());
  std::iota(perm.begin(), perm.end(), 0);
  int k = 0;
  do {
    run_case(shape, perm, k % 2 == 1, static_cast<size_t>(k % 3 == 2), stream);
    ++k;
  } while (std::next_permutation(perm.begin(), perm.end()));
}

std::vector<int> random_perm(int rank) {
  std::vector<int> p(rank);
  std::iota(p.begin(), p.end(), 0);
  std::shuffle(p.begin(), p.end(), rng());
  return p;
}

// A random shape of `rank` dims with at most max_elems elements (dims shrink until it fits).
std::vector<int64_t> random_shape(int rank, size_t max_elems) {
  std::vector<int64_t> s(rank);
  for (auto& d : s) d = pick<int64_t>({1, 2, 3, 5, 7, 8, 9, 16, 17, 33, 40});
  while (count(s) > max_elems) {
    auto it = std::max_element(s.begin(), s.end());
    *it = (*it + 1) / 2;
  }
  return s;
}

void run_empty(cudaStream_t stream) {
  const std::vector<std::vector<int64_t>> shapes = {{0}, {3, 0, 5}, {0, 0}, {2, 3, 4, 0}};
  for (const auto& shape : shapes) {
    const std::vector<int> perm = random_perm(static_cast<int>(shape.size()));
    const std::string what = describe(shape, perm, false) + " (empty)";
    cuda::DeviceBuffer bx, bout;
    float *px, *pout;
    if (!ct::poisoned_output(0, kGuard, stream, &bx, &px) || !ct::poisoned_output(0, kGuard, stream, &bout, &pout))
      return;
    const cudaError_t e = cuda::permute(px, shape.data(), perm.data(), static_cast<int>(shape.size()), 4, pout, stream);
    check(e == cudaSuccess, what + ": returns cudaSuccess");
    ct::guard_intact(pout, 0, kGuard, stream, what + ": nothing written");
    check(cuda::permute(nullptr, shape.data(), perm.data(), static_cast<int>(shape.size()), 4, nullptr, stream) ==
              cudaSuccess,
          what + ": null pointers, nothing touched");
  }
}

void run_invalid(cudaStream_t stream) {
  const std::vector<int64_t> shape = {2, 3, 4};
  const size_t n = count(shape);
  cuda::DeviceBuffer bx, bout;
  uint32_t* px;
  float* pout;
  if (!upload_words(input_words(n, true), 0, stream, &bx, &px) || !ct::poisoned_output(n, kGuard, stream, &bout, &pout))
    return;
  struct Bad {
    const char* what;
    std::vector<int64_t> shape;
    std::vector<int> perm;
    int rank, elem_bytes;
  };
  const std::vector<Bad> bads = {
      {"rank 9", std::vector<int64_t>(9, 1), {0, 1, 2, 3, 4, 5, 6, 7, 8}, 9, 4},
      {"rank -1", shape, {0, 1, 2}, -1, 4},
      {"perm repeats an axis", shape, {0, 0, 2}, 3, 4},
      {"perm repeats the last axis", shape, {0, 2, 2}, 3, 4},
      {"perm axis == rank", shape, {0, 1, 3}, 3, 4},
      {"perm axis -1", shape, {-1, 1, 2}, 3, 4},
      {"negative dim", {2, -3, 4}, {0, 1, 2}, 3, 4},
      {"elem_bytes 2", shape, {2, 1, 0}, 3, 2},
      {"elem_bytes 8", shape, {2, 1, 0}, 3, 8},
      {"elem_bytes 0", shape, {2, 1, 0}, 3, 0},
  };
  for (const Bad& b : bads)
    check(cuda::permute(px, b.shape.data(), b.perm.data(), b.rank, b.elem_bytes, pout, stream) == cudaErrorInvalidValue,
          std::string("permute with ") + b.what + ": cudaErrorInvalidValue");
  const std::vector<int> swap = {2, 1, 0};
  check(cuda::permute(px, shape.data(), swap.data(), 3, 4, px, stream) == cudaErrorInvalidValue,
        "permute with out == x: cudaErrorInvalidValue");
  std::vector<uint32_t> got;
  if (!download_words(reinterpret_cast<const uint32_t*>(pout), n, stream, &got)) return;
  expect_words(got, std::vector<uint32_t>(n, kPoisonBits), "invalid permutes: output untouched");
  ct::guard_intact(pout, n, kGuard, stream, "invalid permutes (guard)");
}

// (2, 2^30 + 1) -> (2^30 + 1, 2): 2^31 + 2 elements, the gather's 64-bit path. x[i] = i, so
// out[2 j + r] must be r (2^30 + 1) + j; checked on the host in one pass.
void run_huge(cudaStream_t stream) {
  const int64_t cols = (int64_t(1) << 30) + 1, total = 2 * cols;
  const std::vector<int64_t> shape = {2, cols};
  const std::vector<int> perm = {1, 0};
  const size_t bytes = static_cast<size_t>(total) * sizeof(uint32_t);
  cuda::DeviceBuffer bx, bout;
  if (!bx.allocate(bytes, stream).ok() || !bout.allocate(bytes + kGuard * sizeof(uint32_t), stream).ok()) {
    std::printf("note: permute of 2^31 + 2 elements skipped (could not allocate 2 x %zu bytes)\n", bytes);
    return;
  }
  const std::string what = "permute (2, 2^30+1) -> (2^30+1, 2)";
  std::vector<uint32_t> h(static_cast<size_t>(total));
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint32_t>(i);
  uint32_t* px = bx.as<uint32_t>();
  uint32_t* po = bout.as<uint32_t>();
  if (!ct::ok(cudaMemcpyAsync(px, h.data(), bytes, cudaMemcpyHostToDevice, stream), "H2D") ||
      !ct::ok(cudaMemsetAsync(po, 0xFF, bytes + kGuard * sizeof(uint32_t), stream), "cudaMemsetAsync") ||
      !ct::ok(cuda::permute(px, shape.data(), perm.data(), 2, 4, po, stream), what) ||
      !ct::ok(cudaMemcpyAsync(h.data(), po, bytes, cudaMemcpyDeviceToHost, stream), "D2H") ||
      !ct::ok(cudaStreamSynchronize(stream), "cudaStreamSynchronize"))
    return;
  ++checks();
  for (int64_t j = 0; j < cols; ++j)
    for (int64_t r = 0; r < 2; ++r) {
      const uint32_t want = static_cast<uint32_t>(r * cols + j), got = h[static_cast<size_t>(2 * j + r)];
      if (got != want) {
        char buf[120];
        std::snprintf(buf, sizeof buf, " at [%lld]: got 0x%08x want 0x%08x", (long long)(2 * j + r), got, want);
        fail(what + buf);
        return;
      }
    }
  ct::guard_intact(reinterpret_cast<const float*>(po), static_cast<size_t>(total), kGuard, stream, what + " (guard)");
}

// One random box of `rank` axes (as native/tests/test_permute.cc draws them).
void run_box(int rank, bool ints, size_t offset, int64_t max_dim, cudaStream_t stream) {
  std::uniform_int_distribution<int> coin(0, 2), zero(0, 9);
  std::vector<int64_t> ss(rank), ds(rank), s0(rank), d0(rank), sz(rank);
  for (int i = 0; i < rank; ++i) {
    sz[i] = zero(rng()) == 0 ? 0 : std::uniform_int_distribution<int64_t>(1, max_dim)(rng());
    const bool whole = coin(rng()) == 0;
    ss[i] = sz[i] + (whole ? 0 : std::uniform_int_distribution<int64_t>(0, 3)(rng()));
    ds[i] = sz[i] + (whole ? 0 : std::uniform_int_distribution<int64_t>(0, 3)(rng()));
    s0[i] = std::uniform_int_distribution<int64_t>(0, ss[i] - sz[i])(rng());
    d0[i] = std::uniform_int_distribution<int64_t>(0, ds[i] - sz[i])(rng());
  }
  std::string what = std::string("copy_box ") + (ints ? "int32" : "float32") + " rank " + std::to_string(rank);
  for (int i = 0; i < rank; ++i)
    what += " [" + std::to_string(s0[i]) + "+" + std::to_string(sz[i]) + " of " + std::to_string(ss[i]) + " -> " +
            std::to_string(d0[i]) + " of " + std::to_string(ds[i]) + "]";
  const std::vector<uint32_t> x = input_words(count(ss), ints), d_init = input_words(count(ds), !ints);
  std::vector<uint32_t> want = d_init;
  const uint32_t fill = 0x3FC00000u + static_cast<uint32_t>(rank);  // 1.5f and up: not a guard or poison word
  const bool with_fill = rank % 2 == static_cast<int>(offset % 2) && !ints;
  if (with_fill) {
    what += " fill";
    std::fill(want.begin(), want.end(), fill);
  }
  ref::copy_box<int32_t>(reinterpret_cast<const int32_t*>(x.data()), ss.data(), s0.data(),
                         reinterpret_cast<int32_t*>(want.data()), ds.data(), d0.data(), sz.data(), rank);
  cuda::DeviceBuffer bx, bd;
  uint32_t *px, *pd;
  if (!upload_words(x, offset, stream, &bx, &px) || !upload_words(d_init, 0, stream, &bd, &pd)) return;
  if (!ct::ok(cuda::copy_box(px, ss.data(), s0.data(), pd, ds.data(), d0.data(), sz.data(), rank, 4,
                              with_fill ? &fill : nullptr, stream), what))
    return;
  std::vector<uint32_t> got;
  if (!download_words(pd, want.size() + kGuard, stream, &got)) return;
  want.resize(want.size() + kGuard, 0xFFFFFFFFu);  // the guard words after dst stay
  expect_words(got, want, what);
}

// A bad rank or element size: cudaErrorInvalidValue, nothing written.
void run_box_invalid(cudaStream_t stream) {
  const int64_t shape[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, start[9] = {};
  cuda::DeviceBuffer b;
  float* p;
  if (!ct::poisoned_output(2, kGuard, stream, &b, &p)) return;
  ++checks();
  if (cuda::copy_box(p, shape, start, p + 1, shape, start, shape, 9, 4, nullptr, stream) != cudaErrorInvalidValue)
    fail("copy_box rank 9 should be cudaErrorInvalidValue");
  ++checks();
  if (cuda::copy_box(p, shape, start, p + 1, shape, start, shape, 1, 8, nullptr, stream) != cudaErrorInvalidValue)
    fail("copy_box elem_bytes 8 should be cudaErrorInvalidValue");
  ct::guard_intact(p, 2, kGuard, stream, "copy_box invalid calls (nothing written)");
}

int run(const char* name) {
  if (!ct::device_or_skip(name)) return ct::kSkipExit;
  const bool small = ct::small_mode();
  cudaStream_t stream = nullptr;
  if (!ct::ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return finish(name);

  // Rank 0 and 1.
  run_case({}, {}, false, 0, stream);
  run_case({}, {}, true, 1, stream);
  for (int64_t n : {int64_t(1), int64_t(7), int64_t(1000)})
    for (int ints = 0; ints < 2; ++ints) run_case({n}, {0}, ints != 0, static_cast<size_t>(ints), stream);

  // Rank 2: thin and tiled planes, partial tiles, size-1 dims.
  for (const std::vector<int64_t>& s : std::vector<std::vector<int64_t>>{
           {1, 1}, {1, 7}, {7, 1}, {3, 40}, {40, 3}, {7, 9}, {8, 8}, {33, 65}, {31, 17}, {64, 64}, {65, 32}})
    all_perms(s, stream);

  // Rank 3: every perm over odd shapes (with 1s, thin and tiled planes, several planes).
  for (const std::vector<int64_t>& s : std::vector<std::vector<int64_t>>{
           {2, 3, 5}, {1, 7, 33}, {33, 1, 40}, {5, 37, 3}, {3, 40, 17}, {9, 33, 1}, {9, 33, 40}, {2, 1, 1}})
    all_perms(s, stream);

  // Rank 4: every perm of two shapes.
  all_perms({3, 5, 2, 7}, stream);
  all_perms({2, 9, 1, 33}, stream);

  // NHWC <-> NCHW and NHWC -> NWHC-like moves.
  run_case({2, 5, 7, 3}, {0, 3, 1, 2}, false, 0, stream);
  run_case({2, 3, 5, 7}, {0, 2, 3, 1}, true, 0, stream);
  run_case({2, 9, 11, 17}, {0, 3, 1, 2}, false, 1, stream);
  run_case({2, 17, 9, 11}, {0, 2, 3, 1}, true, 0, stream);

  // Identity perms of every rank, with size-1 dims.
  for (int rank = 1; rank <= cuda::kPermuteMaxRank; ++rank) {
    std::vector<int> id(rank);
    std::iota(id.begin(), id.end(), 0);
    run_case(random_shape(rank, 3000), id, rank % 2 == 0, static_cast<size_t>(rank % 3 == 0), stream);
  }

  // Random shapes and perms, ranks 4..8.
  const size_t cap = small ? 4000 : (size_t(1) << 21);
  for (int rank = 4; rank <= cuda::kPermuteMaxRank; ++rank)
    for (int i = 0; i < (rank <= 6 ? 14 : 6); ++i)
      run_case(random_shape(rank, cap), random_perm(rank), i % 2 == 1, static_cast<size_t>(i % 4 == 3), stream);

  if (!small) {
    for (const std::vector<int64_t>& s : std::vector<std::vector<int64_t>>{{64, 513, 257}, {1023, 3, 1025}})
      all_perms(s, stream);
    run_case({1537, 2049}, {1, 0}, false, 0, stream);
    run_case({8, 56, 56, 64}, {0, 3, 1, 2}, false, 0, stream);
    run_case({32, 3, 224, 224}, {0, 2, 3, 1}, true, 1, stream);
    run_case({4, 6, 128, 64}, {0, 2, 1, 3}, false, 0, stream);  // (batch, heads, seq, dim) swap
    run_huge(stream);
  }

  // Box copies: every rank, both word types, some offset inputs; larger boxes on a device.
  for (int rank = 0; rank <= cuda::kPermuteMaxRank; ++rank)
    for (int i = 0; i < 40; ++i)
      run_box(rank, i % 2 == 1, static_cast<size_t>(i % 5 == 4), rank <= 3 ? 9 : 4, stream);
  if (!small)
    for (int i = 0; i < 20; ++i) run_box(2 + i % 3, i % 2 == 1, 0, 300, stream);
  run_box_invalid(stream);

  run_empty(stream);
  run_invalid(stream);

  ct::ok(cudaStreamSynchronize(stream), "final cudaStreamSynchronize");
  ct::ok(cudaStreamDestroy(stream), "cudaStreamDestroy");
  return finish(name);
}

}  // namespace permute_test

#ifndef GF_CUDA_TEST_NO_MAIN
int main() { return permute_test::run("test_cuda_permute"); }
#endif

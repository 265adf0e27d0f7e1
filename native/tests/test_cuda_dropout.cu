// CUDA Philox4x32-10 and dropout (native/cuda/dropout.cu). A host Philox written here from
// the paper (not shared with the kernel) is checked against the Random123 known-answer
// vectors (counter 0 / key 0; all ones; the pi digits), then the device's raw words
// (philox_fill) against it bit for bit for sizes 1, 7, 33, 1000, 4097 and several seeds and
// offsets (so word order, the counter halves and the key halves are each pinned down). The
// dropout masks against the host's (keep iff (word >> 8) < ceil((1 - rate) 2^24), value
// 1 / (1 - rate) rounded to float) and y = x * m, exactly, for rates 0.1, 0.5, 0.9 over x
// with NaN/Inf (a dropped NaN stays NaN, as lib's mul); same seed and offset: the same mask;
// another seed or offset: another mask; the kept fraction of 2^17 + 3 draws within 6 binomial
// standard deviations of 1 - rate; the keep boundary u = 1 - rate exactly (dropped); rate 0 keeps everything bit-exactly (with mask null);
// backward dx = dy * mask exactly, in place too; rates outside [0, 1) refused. Outputs are
// NaN-poisoned with guard words after them. Everything here is exact integer or one float
// multiply on both sides: no tolerance. No device: "SKIP: <reason>", exit 77.
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cuda/dropout.h"
#include "cuda/testing.h"
#include "tests/test_util.h"

// GF_CUDA_EMULATED_TEST: also runs over the host emulation (test_cuda_emulated dropout).
namespace dropout_test {

using namespace gf;
using namespace gf::test;
namespace ct = gf::cuda::testing;

constexpr size_t kGuard = 8;

// Philox4x32-10 on the host, from the SC'11 paper's definition.
void host_philox(const uint32_t ctr_in[4], const uint32_t key_in[2], uint32_t out[4]) {
  uint32_t c[4] = {ctr_in[0], ctr_in[1], ctr_in[2], ctr_in[3]};
  uint32_t k[2] = {key_in[0], key_in[1]};
  for (int r = 0; r < 10; ++r) {
    const uint64_t p0 = uint64_t(0xD2511F53u) * c[0], p1 = uint64_t(0xCD9E8D57u) * c[2];
    const uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0), hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
    const uint32_t nc[4] = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
    std::memcpy(c, nc, sizeof c);
    k[0] += 0x9E3779B9u;
    k[1] += 0xBB67AE85u;
  }
  std::memcpy(out, c, sizeof c);
}

// Word i of the stream that cuda/dropout.h defines.
uint32_t host_word(int64_t i, uint64_t seed, uint64_t offset) {
  const uint64_t q = static_cast<uint64_t>(i) / 4;
  const uint32_t ctr[4] = {uint32_t(q), uint32_t(q >> 32), uint32_t(offset), uint32_t(offset >> 32)};
  const uint32_t key[2] = {uint32_t(seed), uint32_t(seed >> 32)};
  uint32_t out[4];
  host_philox(ctr, key, out);
  return out[i % 4];
}

void check_kat() {
  struct { uint32_t ctr[4], key[2], want[4]; } kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
      {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu},
       {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
      {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u},
       {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}};
  for (auto& k : kats) {
    uint32_t got[4];
    host_philox(k.ctr, k.key, got);
    char what[120];
    std::snprintf(what, sizeof what, "host Philox4x32-10 known answer (key %08x): got %08x %08x %08x %08x", k.key[0],
                  got[0], got[1], got[2], got[3]);
    check(std::memcmp(got, k.want, sizeof got) == 0, what);
  }
}

bool download_u32(const uint32_t* p, size_t n, cudaStream_t stream, std::vector<uint32_t>* h) {
  h->assign(n, 0);
  return ct::ok(cudaMemcpyAsync(h->data(), p, n * 4, cudaMemcpyDeviceToHost, stream), "D2H") &&
         ct::ok(cudaStreamSynchronize(stream), "sync");
}

void check_words(int64_t n, uint64_t seed, uint64_t offset, cudaStream_t stream) {
  char what[160];
  std::snprintf(what, sizeof what, "cuda::philox_fill n=%lld seed=%llx offset=%llx", (long long)n,
                (unsigned long long)seed, (unsigned long long)offset);
  cuda::DeviceBuffer b;
  if (!ct::ok(b.allocate((n + kGuard) * 4, stream), "allocate") ||
      !ct::ok(cudaMemsetAsync(b.get(), 0xFF, (n + kGuard) * 4, stream), "poison"))
    return;
  if (!ct::ok(cuda::philox_fill(b.as<uint32_t>(), n, seed, offset, stream), what)) return;
  std::vector<uint32_t> got;
  if (!download_u32(b.as<uint32_t>(), n + kGuard, stream, &got)) return;
  ++checks();
  for (int64_t i = 0; i < n; ++i)
    if (got[i] != host_word(i, seed, offset)) {
      char buf[80];
      std::snprintf(buf, sizeof buf, " at [%lld]: got %08x want %08x", (long long)i, got[i], host_word(i, seed, offset));
      fail(what + std::string(buf));
      break;
    }
  bool guard = true;
  for (int64_t i = n; i < n + int64_t(kGuard); ++i) guard = guard && got[i] == 0xFFFFFFFFu;
  check(guard, std::string(what) + " (guard)");
}

std::vector<float> host_mask(int64_t n, float rate, uint64_t seed, uint64_t offset) {
  const double keep = 1.0 - double(rate);
  const uint32_t thr = static_cast<uint32_t>(std::ceil(keep * 16777216.0));
  const float scale = static_cast<float>(1.0 / keep);
  std::vector<float> m(n);
  for (int64_t i = 0; i < n; ++i) m[i] = (host_word(i, seed, offset) >> 8) < thr ? scale : 0.0f;
  return m;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

std::vector<float> inputs(size_t n) {
  std::vector<float> x = random_vec<float>(n, -3.0, 3.0);
  for (size_t i = 3; i < n; i += 11) x[i] = (i / 11) % 2 ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  return x;
}

// Forward (mask and y) and backward against the host; returns the device mask.
std::vector<float> check_dropout(int64_t n, float rate, uint64_t seed, uint64_t offset, bool inplace, cudaStream_t stream) {
  char what[160];
  std::snprintf(what, sizeof what, "cuda::dropout n=%lld rate=%g seed=%llx offset=%llx%s", (long long)n, rate,
                (unsigned long long)seed, (unsigned long long)offset, inplace ? " in place" : "");
  const std::vector<float> x = inputs(n), dy = random_vec<float>(n, -1.0, 1.0);
  const std::vector<float> want_m = host_mask(n, rate, seed, offset);
  std::vector<float> want_y(n), want_dx(n);
  for (int64_t i = 0; i < n; ++i) {
    want_y[i] = x[i] * want_m[i];
    want_dx[i] = dy[i] * want_m[i];
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  cuda::DeviceBuffer bx, by, bm, bdy, bdx;
  float *dx = nullptr, *dyv = nullptr, *dm = nullptr, *dy_dev = nullptr, *ddx = nullptr;
  if (!ct::upload(x, 1, kGuard, stream, &bx, &dx) || !ct::upload(std::vector<float>(n, nan), 0, kGuard, stream, &bm, &dm) ||
      !ct::upload(dy, 0, kGuard, stream, &bdy, &dy_dev))
    return {};
  if (inplace) dyv = dx;
  else if (!ct::upload(std::vector<float>(n, nan), 0, kGuard, stream, &by, &dyv)) return {};
  if (!ct::ok(cuda::dropout_forward(dx, dyv, dm, n, rate, seed, offset, stream), what)) return {};
  std::vector<float> got_m, got_y, got_dx;
  if (!ct::download(dm, n, stream, &got_m) || !ct::download(dyv, n, stream, &got_y)) return {};
  check(same_bits(got_m, want_m), std::string(what) + ": mask equals the host Philox mask");
  check(same_bits(got_y, want_y), std::string(what) + ": y = x * mask");
  ct::guard_intact(dm, n, kGuard, stream, std::string(what) + " mask (guard)");
  ct::guard_intact(dyv, n, kGuard, stream, std::string(what) + " y (guard)");
  if (inplace) ddx = dy_dev;
  else if (!ct::upload(std::vector<float>(n, nan), 0, kGuard, stream, &bdx, &ddx)) return got_m;
  if (!ct::ok(cuda::dropout_backward(dy_dev, dm, ddx, n, stream), std::string(what) + " backward")) return got_m;
  if (!ct::download(ddx, n, stream, &got_dx)) return got_m;
  check(same_bits(got_dx, want_dx), std::string(what) + ": backward dx = dy * mask");
  ct::guard_intact(ddx, n, kGuard, stream, std::string(what) + " dx (guard)");
  return got_m;
}

int run(const char* name) {
  if (!ct::device_or_skip(name)) return ct::kSkipExit;
  const bool small = ct::small_mode();
  cudaStream_t stream = nullptr;
  if (!ct::ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return finish(name);

  check_kat();
  const int64_t sizes[] = {1, 7, 33, 1000, 4097};
  const uint64_t seeds[] = {0, 1, 0x123456789abcdef0ull, ~0ull};
  const uint64_t offsets[] = {0, 5, 0xfedcba9876543210ull};
  int idx = 0;
  for (int64_t n : sizes)
    for (uint64_t s : seeds) {
      check_words(n, s, offsets[idx % 3], stream);
      ++idx;
    }
  const float rates[] = {0.1f, 0.5f, 0.9f};
  idx = 0;
  for (int64_t n : sizes)
    for (float r : rates) {
      check_dropout(n, r, seeds[idx % 4], offsets[idx % 3], idx % 4 == 1, stream);
      ++idx;
    }

  // Reproducible: the same seed and offset give the same mask; another seed or offset not.
  const int64_t n = small ? (int64_t(1) << 17) + 3 : (int64_t(1) << 22) + 3;
  const std::vector<float> m1 = check_dropout(n, 0.3f, 42, 7, false, stream);
  const std::vector<float> m2 = check_dropout(n, 0.3f, 42, 7, false, stream);
  const std::vector<float> m3 = check_dropout(n, 0.3f, 43, 7, false, stream);
  const std::vector<float> m4 = check_dropout(n, 0.3f, 42, 8, false, stream);
  check(!m1.empty() && same_bits(m1, m2), "same seed and offset: the same mask");
  check(!m1.empty() && !same_bits(m1, m3), "another seed: another mask");
  check(!m1.empty() && !same_bits(m1, m4), "another offset: another mask");
  // Kept fraction: binomial(n, 0.7), within 6 standard deviations.
  int64_t kept = 0;
  for (float v : m1) kept += v != 0.0f;
  const double p = 1.0 - double(0.3f), mean = double(n) * p, sd = std::sqrt(double(n) * p * (1 - p));
  char what[160];
  std::snprintf(what, sizeof what, "kept %lld of %lld at rate 0.3: within 6 sd (%.1f) of %.1f", (long long)kept,
                (long long)n, sd, mean);
  check(std::fabs(double(kept) - mean) <= 6 * sd, what);

  // Rate 0: y == x bit for bit, with no mask output.
  {
    const std::vector<float> x = inputs(4097);
    cuda::DeviceBuffer bx, by;
    float *dx = nullptr, *dy = nullptr;
    if (ct::upload(x, 0, 0, stream, &bx, &dx) &&
        ct::upload(std::vector<float>(x.size(), 0.0f), 0, kGuard, stream, &by, &dy) &&
        ct::ok(cuda::dropout_forward(dx, dy, nullptr, 4097, 0.0f, 9, 9, stream), "dropout rate 0")) {
      std::vector<float> got;
      if (ct::download(dy, x.size(), stream, &got)) check(same_bits(got, x), "rate 0 keeps every element exactly");
      check_dropout(1000, 0.0f, 3, 3, false, stream);
    }
  }
  // The keep boundary: with 1 - rate = r_i 2^-24 exactly (r_i = word_i >> 8), u_i = 1 - rate
  // must drop element i; one step of 2^-24 more must keep it (an off-by-one threshold shows).
  for (int64_t i = 0; i < 4; ++i) {
    const uint32_t ri = host_word(i, 77, 1) >> 8;
    for (int up = 0; up < 2; ++up) {
      const float rate = static_cast<float>(1.0 - (double(ri) + up) * std::ldexp(1.0, -24));  // exact in float
      const std::vector<float> m = check_dropout(7, rate, 77, 1, false, stream);
      char w[120];
      std::snprintf(w, sizeof w, "keep boundary: element %lld with 1 - rate = (r + %d) 2^-24 is %s", (long long)i, up,
                    up ? "kept" : "dropped");
      check(m.size() == 7 && ((m[i] != 0.0f) == (up == 1)), w);
    }
  }
  check(cuda::dropout_forward(nullptr, nullptr, nullptr, 4, 1.0f, 0, 0, stream) == cudaErrorInvalidValue &&
            cuda::dropout_forward(nullptr, nullptr, nullptr, 4, -0.1f, 0, 0, stream) == cudaErrorInvalidValue &&
            cuda::dropout_forward(nullptr, nullptr, nullptr, 4, std::numeric_limits<float>::quiet_NaN(), 0, 0, stream) ==
                cudaErrorInvalidValue,
        "rates outside [0, 1) are refused");
  check(cuda::dropout_forward(nullptr, nullptr, nullptr, 0, 0.5f, 0, 0, stream) == cudaSuccess, "n = 0 does nothing");

  ct::ok(cudaStreamSynchronize(stream), "final cudaStreamSynchronize");
  ct::ok(cudaStreamDestroy(stream), "cudaStreamDestroy");
  return finish(name);
}

}  // namespace dropout_test

#ifndef GF_CUDA_TEST_NO_MAIN
int main() { return dropout_test::run("test_cuda_dropout"); }
#endif

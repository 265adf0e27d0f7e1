// CUDA SGEMM (native/cuda/gemm.cu) against the naive reference (ref::gemm, double
// accumulation): every kernel path (auto, simple16, tile64x64, tile128x128, forced with
// set_gemm_path so each runs at every size), all four transpose combinations, alpha/beta
// values including beta = 0 over a C full of NaN (so an unwritten element fails) and
// alpha = 0 over an A full of NaN (never read), K = 0, M or N = 0, sizes 1, 7, 33, 100, 257 and
// 1000 in each dimension, leading dimensions padded past the row (the padding holds a sentinel
// that must survive exactly), base pointers offset by one float (no float4 path), and the
// epilogue (bias per column and/or relu). Past the end of C, guard floats must stay untouched.
// Tolerance per element, as test_gemm.cc: 2 (K+2) eps (|alpha| sum_k |a||b| + |beta c|).
// No device: prints "SKIP: <reason>" and exits 77. GF_CUDA_SMALL=1: small shapes only (for
// compute-sanitizer). The same file runs in the host emulation (test_cuda_emulated.cc).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "cuda/gemm.h"
#include "cuda/testing.h"
#include "ref/ref.h"
#include "tests/test_util.h"

// GF_CUDA_EMULATED_TEST: also runs over the host emulation (test_cuda_emulated gemm).
namespace gemm_test {

using namespace gf;
using namespace gf::test;
namespace ct = gf::cuda::testing;

constexpr float kSentinel = 12345.0f;
constexpr size_t kGuard = 8;
constexpr int kAlign = -1;  // leading dimensions rounded up to a multiple of 4 (float4 loads)
                            // while K, M, N need not be: the vector path's edges

struct Case {
  int64_t M, N, K;
  bool ta, tb;
  float alpha, beta;
  int pad;     // extra elements per row of A, B and C; kAlign: each rounded up to a multiple of 4
  int offset;  // floats before each operand's first element (1: misaligned for float4)
};

struct Prepared {
  Case c;
  int64_t lda, ldb, ldc;
  std::vector<float> A, B, C0, want, tol;
  std::vector<char> live;  // inside the M x N result (else padding: must stay exactly)
};

Prepared prepare(const Case& c) {
  Prepared p;
  p.c = c;
  const int64_t arows = c.ta ? c.K : c.M, acols = c.ta ? c.M : c.K;
  const int64_t brows = c.tb ? c.N : c.K, bcols = c.tb ? c.K : c.N;
  auto ld = [&](int64_t cols) {
    return c.pad == kAlign ? std::max<int64_t>(4, (cols + 3) / 4 * 4) : std::max<int64_t>(1, cols + c.pad);
  };
  p.lda = ld(acols);
  p.ldb = ld(bcols);
  p.ldc = ld(c.N);
  p.A = random_vec<float>(std::max<int64_t>(1, arows * p.lda));
  p.B = random_vec<float>(std::max<int64_t>(1, brows * p.ldb));
  p.C0 = random_vec<float>(c.M * p.ldc);
  p.live.assign(p.C0.size(), 0);
  for (int64_t i = 0; i < (int64_t)p.C0.size(); ++i) {
    const int64_t col = i % p.ldc;
    if (col >= c.N) p.C0[i] = kSentinel;
    else {
      p.live[i] = 1;
      if (c.beta == 0) p.C0[i] = std::numeric_limits<float>::quiet_NaN();
    }
  }
  if (c.alpha == 0)  // BLAS: A and B are not referenced when alpha == 0
    for (auto& a : p.A) a = std::numeric_limits<float>::quiet_NaN();
  p.want = p.C0;
  ref::gemm<float>(c.ta, c.tb, c.M, c.N, c.K, c.alpha, p.A.data(), p.lda, p.B.data(), p.ldb, c.beta,
                   p.want.data(), p.ldc);
  std::vector<float> absA(p.A.size()), absB(p.B.size()), absAB(p.C0.size(), 0.0f);
  for (size_t i = 0; i < p.A.size(); ++i) absA[i] = std::fabs(p.A[i]);
  for (size_t i = 0; i < p.B.size(); ++i) absB[i] = std::fabs(p.B[i]);
  if (c.alpha != 0)
    ref::gemm<float>(c.ta, c.tb, c.M, c.N, c.K, 1.0f, absA.data(), p.lda, absB.data(), p.ldb, 0.0f,
                     absAB.data(), p.ldc);
  p.tol.assign(p.C0.size(), 0.0f);
  for (size_t i = 0; i < p.C0.size(); ++i) {
    if (!p.live[i]) continue;  // padding: exact
    const double cterm = c.beta == 0 ? 0.0 : std::fabs(double(c.beta) * p.C0[i]);
    p.tol[i] = float(2.0 * (c.K + 2) * eps<float>() * (std::fabs(c.alpha) * absAB[i] + cterm) + 1e-30);
  }
  return p;
}

void compare(const Prepared& p, const std::vector<float>& C, const std::vector<float>& want,
             const std::vector<float>& tol, const std::string& what) {
  ++checks();
  for (size_t i = 0; i < C.size(); ++i) {
    const double got = C[i], w = want[i];
    const bool good = std::isnan(w) ? std::isnan(got) : std::fabs(got - w) <= tol[i];
    if (!good) {
      char buf[200];
      std::snprintf(buf, sizeof buf, ": C[%zu] (row %lld col %lld%s) got %.9g want %.9g tol %.3g", i,
                    (long long)(i / p.ldc), (long long)(i % p.ldc), p.live[i] ? "" : ", padding", got, w,
                    double(tol[i]));
      fail(what + buf);
      return;
    }
  }
}

const cuda::GemmPath kPaths[] = {cuda::GemmPath::Auto, cuda::GemmPath::Simple, cuda::GemmPath::Tile64,
                                 cuda::GemmPath::Tile128};

void run_case(const Case& c, cudaStream_t stream) {
  const Prepared p = prepare(c);
  cuda::DeviceBuffer bufA, bufB, bufC, bufBias;
  float *dA = nullptr, *dB = nullptr, *dC = nullptr, *dBias = nullptr;
  if (!ct::upload(p.A, c.offset, 0, stream, &bufA, &dA) || !ct::upload(p.B, c.offset, 0, stream, &bufB, &dB))
    return;

  // The epilogue variant cycles with the shape: bias, relu, or both.
  const int variant = static_cast<int>((c.M + 3 * c.N + 7 * c.K + c.pad + 3) % 3);
  const std::vector<float> bias = random_vec<float>(std::max<int64_t>(1, c.N));
  if (!ct::upload(bias, c.offset, 0, stream, &bufBias, &dBias)) return;
  GemmEpilogue<float> epi;
  epi.bias = variant != 1 ? dBias : nullptr;
  epi.act = variant != 0 ? GemmActivation::Relu : GemmActivation::Linear;
  std::vector<float> want_epi = p.want, tol_epi = p.tol;
  for (size_t i = 0; i < want_epi.size(); ++i) {
    if (!p.live[i]) continue;
    float& w = want_epi[i];
    if (epi.bias) {
      w += bias[i % p.ldc];
      tol_epi[i] += float(2 * eps<float>() * std::fabs(double(w)));
    }
    if (epi.act == GemmActivation::Relu) w = w < 0.0f ? 0.0f : w;
  }

  char base[200];
  std::snprintf(base, sizeof base, "M=%lld N=%lld K=%lld transA=%d transB=%d alpha=%g beta=%g pad=%d offset=%d",
                (long long)c.M, (long long)c.N, (long long)c.K, c.ta, c.tb, c.alpha, c.beta, c.pad, c.offset);
  for (cuda::GemmPath path : kPaths) {
    for (int with_epi = 0; with_epi < 2; ++with_epi) {
      const std::string what = std::string("cuda::gemm path=") + cuda::gemm_path_name(path) + " " + base +
                               (with_epi ? (std::string(epi.bias ? " +bias" : "") +
                                            (epi.act == GemmActivation::Relu ? " relu" : ""))
                                         : "");
      if (!ct::upload(p.C0, c.offset, kGuard, stream, &bufC, &dC)) return;
      cuda::set_gemm_path(path);
      const cudaError_t e =
          with_epi ? cuda::gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, dA, p.lda, dB, p.ldb, c.beta, dC, p.ldc, epi, stream)
                   : cuda::gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, dA, p.lda, dB, p.ldb, c.beta, dC, p.ldc, stream);
      cuda::set_gemm_path(cuda::GemmPath::Auto);
      if (!ct::ok(e, what)) return;
      std::vector<float> C;
      if (!ct::download(dC, p.C0.size(), stream, &C)) return;
      compare(p, C, with_epi ? want_epi : p.want, with_epi ? tol_epi : p.tol, what);
      ct::guard_intact(dC, p.C0.size(), kGuard, stream, what + " (guard)");
    }
  }
}

std::vector<Case> cases(bool small) {
  std::vector<Case> out;
  const float alphas[] = {1.0f, -0.5f, 2.25f};
  const float betas[] = {0.0f, 1.0f, -1.5f};
  int idx = 0;
  auto add = [&](int64_t M, int64_t N, int64_t K, int transposes) {
    const int only = idx % 4;
    for (int t = 0; t < 4; ++t) {
      if (transposes == 1 && t != only) continue;  // one transpose combination, cycled
      // pad cycles 0, 1, 2, 3, aligned; every seventh case is offset (misaligned pointers)
      out.push_back({M, N, K, bool(t & 1), bool(t & 2), alphas[(idx / 3) % 3], betas[idx % 3],
                     idx % 5 == 4 ? kAlign : idx % 5, idx % 7 == 3 ? 1 : 0});
      ++idx;
    }
    if (transposes == 1) ++idx;
  };
  // (The host emulation runs every block's threads for real: it gets the smallest set.)
  const std::vector<int64_t> dims = ct::emulated() ? std::vector<int64_t>{1, 7, 33}
                                    : small       ? std::vector<int64_t>{1, 7, 33, 65}
                                                  : std::vector<int64_t>{1, 7, 33, 100, 257};
  for (int64_t M : dims)
    for (int64_t N : dims)
      for (int64_t K : dims) add(M, N, K, 1);
  if (ct::emulated()) {
    add(65, 65, 65, 1);
    add(65, 7, 33, 1);
    add(7, 65, 1, 1);
    add(33, 1, 65, 1);
  }
  // Every transpose combination where the tiles' edges are crossed in every dimension.
  add(130, 66, 17, 4);
  add(130, 66, 17, 4);  // (again: the next pad and alpha/beta of the cycle)
  add(64, 64, 8, 4);    // exact tile multiples, K one step
  out.push_back({33, 65, 9, false, true, 1.0f, 0.0f, kAlign, 0});  // float4 loads, K % 4 != 0
  out.push_back({65, 33, 1, true, false, 1.0f, 1.0f, kAlign, 0});
  out.push_back({66, 130, 7, false, false, -1.0f, 0.0f, kAlign, 0});
  out.push_back({66, 130, 7, true, true, -1.0f, 0.0f, kAlign, 0});
  if (!small) {
    add(257, 257, 257, 4);
    add(33, 100, 257, 4);
    add(129, 129, 9, 4);
    add(256, 128, 16, 4);
    // 1000 in each dimension (the others moderate, so the reference stays cheap), and once all.
    add(1000, 33, 100, 4);
    add(33, 1000, 257, 4);
    add(100, 33, 1000, 4);
    out.push_back({1000, 1000, 1000, false, true, 1.0f, 0.0f, 3, 0});
    out.push_back({1000, 1000, 1000, true, false, -0.75f, 0.5f, 0, 1});
    // Enough 128 x 128 tiles for the auto path to take tile128x128 on a large GPU.
    out.push_back({1536, 1544, 70, false, false, 1.0f, 0.0f, 1, 0});
  }
  // K = 0 and alpha = 0 (C = beta * C, A and B never read; A is NaN), empty M or N.
  out.push_back({17, 33, 0, false, false, 1.0f, 0.5f, 1, 0});
  out.push_back({17, 33, 0, true, true, 1.0f, 0.0f, 0, 0});
  out.push_back({17, 33, 7, false, true, 0.0f, 0.5f, 1, 0});
  out.push_back({17, 33, 7, true, false, 0.0f, 0.0f, 0, 1});
  out.push_back({0, 7, 5, false, false, 1.0f, 0.0f, 0, 0});
  out.push_back({7, 0, 5, false, false, 1.0f, 1.0f, 2, 0});
  out.push_back({1, 1, 1, true, true, 1.0f, 0.0f, 0, 0});
  return out;
}

int run(const char* name) {
  if (!ct::device_or_skip(name)) return ct::kSkipExit;
  const bool small = ct::small_mode();
  cudaStream_t stream = nullptr;
  if (!ct::ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return finish(name);
  const std::vector<Case> all = cases(small);
  std::printf("%s: %zu shapes x %zu paths x 2 (plain, epilogue)%s\n", name, all.size(),
              sizeof kPaths / sizeof kPaths[0], small ? " (small shapes: GF_CUDA_SMALL)" : "");
  for (const Case& c : all) run_case(c, stream);
  ct::ok(cudaStreamSynchronize(stream), "final cudaStreamSynchronize");
  ct::ok(cudaStreamDestroy(stream), "cudaStreamDestroy");
  return finish(name);
}

}  // namespace gemm_test

#ifndef GF_CUDA_TEST_NO_MAIN
int main() { return gemm_test::run("test_cuda_gemm"); }
#endif

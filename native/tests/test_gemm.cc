// GEMM kernels vs the naive reference: every micro-kernel this CPU can run, 1 and 2 threads,
// float and double, all four transpose combinations, padded leading dimensions, alpha/beta
// including beta = 0 over a C full of NaN, alpha = 0 over an A full of NaN, K = 0, and sizes
// that cross every blocking edge (MR/NR tiles, MC/KC/NC blocks). Padding between rows of C and
// past its end holds a sentinel that must survive (no out-of-bounds writes).
// Each case also runs with the epilogue (bias per column and/or relu applied as C is stored).
// Tolerance per element: 2 (K+2) eps (|alpha| sum_k |a||b| + |beta c|), the classic bound.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cpu/cpu_features.h"
#include "cpu/gemm.h"
#include "cpu/threadpool.h"
#include "ref/ref.h"
#include "tests/test_util.h"

using namespace gf;
using namespace gf::test;

namespace {

constexpr double kSentinel = 12345.0;

struct Case {
  int64_t M, N, K;
  bool ta, tb;
  double alpha, beta;
  int pad;  // extra elements per row of A, B and C
};

template <typename T>
struct Prepared {
  Case c;
  int64_t lda, ldb, ldc;
  std::vector<T> A, B, C0, want, tol;
};

template <typename T>
Prepared<T> prepare(const Case& c) {
  Prepared<T> p;
  p.c = c;
  const int64_t arows = c.ta ? c.K : c.M, acols = c.ta ? c.M : c.K;
  const int64_t brows = c.tb ? c.N : c.K, bcols = c.tb ? c.K : c.N;
  p.lda = acols + c.pad;
  p.ldb = bcols + c.pad;
  p.ldc = c.N + c.pad;
  p.A = random_vec<T>(std::max<int64_t>(1, arows * p.lda));
  p.B = random_vec<T>(std::max<int64_t>(1, brows * p.ldb));
  p.C0 = random_vec<T>(c.M * p.ldc + 8);
  // Sentinels in C's row padding and tail; NaN in the live part when beta == 0.
  for (int64_t i = 0; i < (int64_t)p.C0.size(); ++i) {
    const int64_t row = p.ldc ? i / p.ldc : c.M, col = p.ldc ? i % p.ldc : 0;
    if (row >= c.M || col >= c.N) p.C0[i] = T(kSentinel);
    else if (c.beta == 0) p.C0[i] = std::numeric_limits<T>::quiet_NaN();
  }
  if (c.alpha == 0)  // BLAS: A and B are not referenced when alpha == 0
    for (auto& a : p.A) a = std::numeric_limits<T>::quiet_NaN();
  p.want = p.C0;
  ref::gemm<T>(c.ta, c.tb, c.M, c.N, c.K, T(c.alpha), p.A.data(), p.lda, p.B.data(), p.ldb,
               T(c.beta), p.want.data(), p.ldc);
  // |A| |B| gives the scale of the rounding error of each dot product.
  std::vector<T> absA(p.A.size()), absB(p.B.size()), absAB(p.C0.size(), T(0));
  for (size_t i = 0; i < p.A.size(); ++i) absA[i] = std::fabs(p.A[i]);
  for (size_t i = 0; i < p.B.size(); ++i) absB[i] = std::fabs(p.B[i]);
  if (c.alpha != 0)
    ref::gemm<T>(c.ta, c.tb, c.M, c.N, c.K, T(1), absA.data(), p.lda, absB.data(), p.ldb, T(0),
                 absAB.data(), p.ldc);
  p.tol.resize(p.C0.size());
  for (size_t i = 0; i < p.C0.size(); ++i) {
    const double cterm = c.beta == 0 ? 0.0 : std::fabs(c.beta * double(p.C0[i]));
    p.tol[i] = T(2.0 * (c.K + 2) * eps<T>() * (std::fabs(c.alpha) * absAB[i] + cterm) + 1e-30);
  }
  return p;
}

// Compares C (after gemm) with want, element by element within tol; names the first mismatch.
template <typename T>
void compare(const Prepared<T>& p, const std::vector<T>& C, const std::vector<T>& want,
             const std::vector<T>& tol, const std::string& what) {
  ++checks();
  for (size_t i = 0; i < C.size(); ++i) {
    const double got = C[i], w = want[i];
    bool ok = std::isnan(w) ? std::isnan(got) : std::fabs(got - w) <= tol[i];
    if (!ok) {
      char buf[160];
      std::snprintf(buf, sizeof buf, ": C[%zu] (row %lld col %lld) got %.9g want %.9g tol %.3g", i,
                    (long long)(p.ldc ? i / p.ldc : 0), (long long)(p.ldc ? i % p.ldc : 0), got, w, double(tol[i]));
      fail(what + buf);
      return;
    }
  }
}

template <typename T>
void run_case(const Prepared<T>& p, const char* kernel, int threads) {
  const Case& c = p.c;
  std::vector<T> C = p.C0;
  gemm<T>(c.ta, c.tb, c.M, c.N, c.K, T(c.alpha), p.A.data(), p.lda, p.B.data(), p.ldb,
          T(c.beta), C.data(), p.ldc);
  char what[200];
  std::snprintf(what, sizeof what,
                "gemm<%s> kernel=%s threads=%d (-2: split forced) M=%lld N=%lld K=%lld transA=%d transB=%d "
                "alpha=%g beta=%g pad=%d",
                type_name<T>(), kernel, threads, (long long)c.M, (long long)c.N, (long long)c.K,
                c.ta, c.tb, c.alpha, c.beta, c.pad);
  compare(p, C, p.want, p.tol, what);

  // The same product with an epilogue: a bias per column, relu, or both (which one cycles with
  // the shape, so every path meets each). Expected: act(want + bias); the padding and tail of C
  // keep their sentinels.
  const int variant = static_cast<int>((c.M + 3 * c.N + 7 * c.K + c.pad) % 3);
  std::vector<T> bias = random_vec<T>(std::max<int64_t>(1, c.N));
  GemmEpilogue<T> epi;
  epi.bias = variant != 1 ? bias.data() : nullptr;
  epi.act = variant != 0 ? GemmActivation::Relu : GemmActivation::Linear;
  std::vector<T> want = p.want, tol = p.tol;
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N; ++j) {
      T& w = want[i * p.ldc + j];
      if (epi.bias) {
        w += bias[j];
        tol[i * p.ldc + j] += T(2 * eps<T>() * std::fabs(double(w)));
      }
      if (epi.act == GemmActivation::Relu) w = w > T(0) ? w : T(0);
    }
  C = p.C0;
  gemm<T>(c.ta, c.tb, c.M, c.N, c.K, T(c.alpha), p.A.data(), p.lda, p.B.data(), p.ldb,
          T(c.beta), C.data(), p.ldc, epi);
  compare(p, C, want, tol, std::string(what) + (epi.bias ? " +bias" : "") +
                               (epi.act == GemmActivation::Relu ? " relu" : ""));
}

std::vector<Case> small_cases() {
  std::vector<Case> cases;
  const int64_t sizes[] = {0, 1, 7, 17, 33, 100, 257};
  const double alphas[] = {1.0, -0.5, 2.25, 0.0};
  const double betas[] = {0.0, 1.0, -1.5};
  int idx = 0;
  auto add = [&](int64_t M, int64_t N, int64_t K) {
    for (int t = 0; t < 4; ++t) {
      // Cycle alpha/beta/pad so every transpose combination meets several of them; alpha = 0
      // (which must not read A) now and then.
      const double alpha = idx % 11 == 5 ? alphas[3] : alphas[(idx / 3) % 3];
      cases.push_back({M, N, K, bool(t & 1), bool(t & 2), alpha, betas[idx % 3], idx % 4});
      ++idx;
    }
  };
  for (int64_t s : sizes) add(s, s, s);  // square, incl. empty
  // Mixed shapes: thin/wide/deep, each dimension crossing its tile and block edges
  // (MR 4/6, NR 4/8/16/32, MC 128/144, KC 256).
  const int64_t mixed[][3] = {
      {1, 257, 33},  {257, 1, 7},   {7, 33, 257},  {33, 7, 1},    {100, 17, 257}, {17, 100, 0},
      {0, 7, 17},    {7, 0, 17},    {257, 100, 17}, {5, 3, 600},  {145, 33, 513}, {300, 47, 270},
      {6, 16, 1},    {12, 32, 256}, {13, 31, 255}, {289, 65, 17}, {2, 2, 1000},   {33, 130, 70},
  };
  for (auto& m : mixed) add(m[0], m[1], m[2]);
  // 1000 in each dimension (with the others small, so the reference stays cheap).
  add(1000, 17, 33);
  add(17, 1000, 33);
  add(33, 17, 1000);
  // The paths that skip packing (AVX-512): N <= 16 (24x16 tile), N <= 64 (A read in place),
  // M < 256 with B read in place (its last row ends at column N when pad = 0: masked loads),
  // and shapes of the networks' products (Dense logits, im2col with K = 9 Cin).
  add(64, 10, 128);
  add(300, 16, 9);
  add(257, 64, 288);
  add(1000, 32, 9);
  add(255, 100, 33);
  add(29, 47, 300);
  // Few rows (M <= 8: gemm_avx512_rows reads B in place over all of K): every row count, with
  // N crossing its column blocks (16 * (24 / M) columns, then 64-column tails) and K odd.
  for (int64_t m = 1; m <= 9; ++m) {
    add(m, 385, 37);
    add(m, 47, 129);
    add(m, 1000, 5);
  }
  // alpha = 0 with NaN in A: C = beta * C, A never read.
  cases.push_back({17, 33, 7, false, true, 0.0, 0.5, 1});
  cases.push_back({17, 33, 7, true, false, 0.0, 0.0, 0});
  // N beyond one NC block (4096 for float kernels, 2048 for double).
  cases.push_back({7, 4200, 9, false, false, 1.0, 0.0, 3});
  cases.push_back({5, 4103, 3, true, true, -1.0, 2.0, 0});
  return cases;
}

// A couple of large problems (500-1000), one transpose combination each.
std::vector<Case> large_cases() {
  return {
      {517, 1000, 600, false, false, 1.0, 0.0, 5},
      {1000, 519, 700, true, true, -0.75, 0.5, 0},
      {640, 333, 1000, false, true, 1.0, 1.0, 2},
      // Several column blocks (N > NC) with M > MC and K > KC: a K slice of A is packed whole
      // once and serves every block (transposed A, padded leading dimensions, beta != 0).
      {301, 1500, 299, true, true, 1.5, -1.5, 3},
  };
}

template <typename T>
void run_all(const std::vector<Case>& cases, const std::vector<std::string>& kernels) {
  for (const Case& c : cases) {
    Prepared<T> p = prepare<T>(c);
    for (const std::string& k : kernels) {
      if (sizeof(T) == 4 && set_gemm_kernel(k) != SetKernelResult::Ok) {
        fail("cannot select kernel " + k);
        continue;
      }
      // 1 thread; 2 threads under the default policy; 2 threads forced to split every product.
      for (int mode = 0; mode < 3; ++mode) {
        const int threads = mode == 0 ? 1 : 2;
        set_num_threads(threads);
        set_gemm_parallel(mode == 2 ? GemmParallel::Always : GemmParallel::Auto);
        run_case(p, k.c_str(), mode == 2 ? -2 : threads);
      }
      set_gemm_parallel(GemmParallel::Auto);
    }
  }
}

// Every row of C has the same bits whatever the number of rows computed with it (batch
// invariance: a batch of 1 gives that row of a batch of 37; a convolution computed in blocks of
// output rows gives the bits of the whole). Covers the few-rows path (M <= 8) against the
// blocked one, K across several K blocks, both transposes of A, beta, the epilogue, threads.
void check_row_invariance(const std::string& kernel) {
  const int64_t M = 37;
  const int64_t shapes[][2] = {{10, 700}, {64, 1500}, {128, 784}, {200, 33}, {47, 1025}};
  for (auto& nk : shapes)
    for (int ta = 0; ta < 2; ++ta)
      for (int threads : {1, 2}) {
        set_num_threads(threads);
        const int64_t N = nk[0], K = nk[1], lda = ta ? M : K;
        std::vector<float> A = random_vec<float>(M * K), B = random_vec<float>(K * N),
                           C0 = random_vec<float>(M * N), bias = random_vec<float>(N);
        GemmEpilogue<float> epi{bias.data(), GemmActivation::Relu};
        for (int with_epi = 0; with_epi < 2; ++with_epi) {
          const GemmEpilogue<float> e = with_epi ? epi : GemmEpilogue<float>{};
          std::vector<float> whole = C0;
          gemm<float>(ta, false, M, N, K, 1.0f, A.data(), lda, B.data(), N, 0.5f, whole.data(), N, e);
          bool same = true;
          for (int64_t r0 = 0, rows = 1; r0 < M && same; r0 += rows, rows = rows % 9 + 1) {
            const int64_t m = std::min(rows, M - r0);
            std::vector<float> part(C0.begin() + r0 * N, C0.begin() + (r0 + m) * N);
            const float* a = ta ? A.data() + r0 : A.data() + r0 * K;
            gemm<float>(ta, false, m, N, K, 1.0f, a, lda, B.data(), N, 0.5f, part.data(), N, e);
            same = std::memcmp(part.data(), whole.data() + r0 * N, sizeof(float) * m * N) == 0;
          }
          check(same, "rows bit-identical whatever M: kernel=" + kernel + " N=" + std::to_string(N) +
                          " K=" + std::to_string(K) + " transA=" + std::to_string(ta) +
                          " threads=" + std::to_string(threads) + (with_epi ? " +bias relu" : ""));
        }
      }
  set_num_threads(1);
}

// A product shared by a team of threads (gemm.cc gemm_team) has the bits of the serial one,
// for 2-4 threads, across its phases: several K slices, column blocks (N > NC) and row blocks
// (M > MC), A and B packed or read in place (N <= 64, M <= MR), transposes, beta, the epilogue.
void check_team_bits(const std::string& kernel) {
  const int64_t shapes[][3] = {{128, 128, 784}, {301, 700, 299}, {64, 784, 128}, {1000, 33, 40},
                               {9, 300, 500},   {500, 64, 288},  {20, 10, 900}};
  for (auto& s : shapes)
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      const int64_t M = s[0], N = s[1], K = s[2], lda = ta ? M : K, ldb = tb ? K : N;
      std::vector<float> A = random_vec<float>(M * K), B = random_vec<float>(K * N),
                         C0 = random_vec<float>(M * N), bias = random_vec<float>(N);
      const GemmEpilogue<float> e = t == 3 ? GemmEpilogue<float>{bias.data(), GemmActivation::Relu}
                                           : GemmEpilogue<float>{};
      set_num_threads(1);
      std::vector<float> serial = C0;
      gemm<float>(ta, tb, M, N, K, 1.25f, A.data(), lda, B.data(), ldb, t == 2 ? 0.0f : 0.5f,
                  serial.data(), N, e);
      set_gemm_parallel(GemmParallel::Always);
      for (int threads : {2, 3, 4}) {
        set_num_threads(threads);
        std::vector<float> team = C0;
        gemm<float>(ta, tb, M, N, K, 1.25f, A.data(), lda, B.data(), ldb, t == 2 ? 0.0f : 0.5f,
                    team.data(), N, e);
        check(std::memcmp(team.data(), serial.data(), sizeof(float) * M * N) == 0,
              "team product has the serial bits: kernel=" + kernel + " " + std::to_string(M) + "x" +
                  std::to_string(K) + "x" + std::to_string(N) + " transA=" + std::to_string(ta) +
                  " transB=" + std::to_string(tb) + " threads=" + std::to_string(threads));
      }
      set_gemm_parallel(GemmParallel::Auto);
    }
  set_num_threads(1);
}

}  // namespace

int main() {
  const std::vector<std::string> kernels = available_gemm_kernels();
  std::printf("micro-kernels on this CPU:");
  for (auto& k : kernels) std::printf(" %s", k.c_str());
  std::printf("%s\n", gemm_kernel_available(GemmKernel::Avx512)
                          ? "" : "  (avx512 compiled but NOT run: CPU lacks AVX-512)");

  run_all<float>(small_cases(), kernels);
  run_all<double>(small_cases(), {"generic"});
  run_all<float>(large_cases(), kernels);
  run_all<double>({large_cases()[0]}, {"generic"});
  for (const std::string& k : kernels)
    if (set_gemm_kernel(k) == SetKernelResult::Ok) {
      check_row_invariance(k);
      check_team_bits(k);
    }

  // GRADFORGE_GEMM_KERNEL / setGemmKernel names: unknown and "auto".
  check(set_gemm_kernel("nope") == SetKernelResult::UnknownName, "set_gemm_kernel('nope')");
  check(set_gemm_kernel("auto") == SetKernelResult::Ok &&
            gemm_kernel_name(current_gemm_kernel()) == kernels.front(),
        "auto selects the best kernel");
  return finish("test_gemm");
}

// GEMM driver in the Goto/BLIS structure:
//   for pc (KC slice of K) / for jc (NC columns of C): pack op(B) into NR-wide panels
//     for ic (MC rows): pack op(A) into MR-tall panels, then for ir / for jr: micro-kernel on
//       an MR x NR tile of C (the A micro-panel stays in L1, B panels stream from L2).
//   With several jc blocks, A's K slice is packed whole before the jc loop instead (once, not
//   once per block).
// Threads share a product as a team (gemm_team): C cut into a few units per thread, each a
// run of that loop nest on its part, claimed first from the thread's own segment and then from
// the others' (a late thread holds back one unit); every thread packs its own copy of B once.
// Products whose packed B is too large for that are split into one band per thread
// (gemm_parallel). Small products stay serial.
// Packing absorbs transposes, leading dimensions and edge padding (zeros), so the micro-kernels
// see aligned dense panels; the AVX-512 kernels also take unpacked operands (thin products,
// where packing costs more than it saves) and mask their edges, while the AVX2/ref kernels
// route edge tiles through a scratch tile. beta is applied on the first K slice only (later
// slices accumulate with beta = 1); beta == 0 never reads C.
// Not here: argument checks (binding), ISA-specific code (gemm_<isa>*.cc).
#include "cpu/gemm.h"

#include <unistd.h>
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <type_traits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cpu/cpu_features.h"
#include "cpu/gemm_microkernels.h"
#include "cpu/scratch.h"
#include "cpu/threadpool.h"

namespace gf {
namespace {

template <typename T>
using MicroFn = void (*)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T alpha, T beta);
// A tile function: rows m <= MR and columns n <= NR of C (edges included). A's element
// (i, k) is at a[i * a_rs + k * a_ks], B's row k at b + k * ldb (see gemm_microkernels.h).
// bias (this tile's columns; null: none) and relu are the epilogue, applied as C is stored.
template <typename T>
using TileFn = void (*)(int64_t kc, const T* a, int64_t a_rs, int64_t a_ks, const T* b,
                        int64_t ldb, T* c, int64_t ldc, T alpha, T beta, int m, int n,
                        const T* bias, bool relu);

template <typename T>
struct MicroKernel {
  int mr, nr;
  TileFn<T> fn;
  // Whether fn takes any strides (else only packed panels: a_rs = 1, a_ks = mr, ldb = nr),
  // which lets the driver skip packing where it costs more than it saves.
  bool strided;
};

constexpr int kMaxScratchTile = 6 * 16;  // largest MR*NR of the full-tile-only kernels

// The epilogue on rows [0, m) x columns [0, n) of a tile just stored (it reads and writes L1):
// + bias[j], then v < 0 ? 0 : v as gf.relu (NaN and -0 pass through unchanged).
template <typename T>
void epilogue_tile(T* c, int64_t ldc, int64_t m, int64_t n, const T* bias, bool relu) {
  for (int64_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (bias)
      for (int64_t j = 0; j < n; ++j) row[j] += bias[j];
    if (relu)
      for (int64_t j = 0; j < n; ++j) row[j] = row[j] < T(0) ? T(0) : row[j];
  }
}

// Wraps a full-tile-only micro-kernel: edge tiles are computed whole into a scratch tile (the
// packed panels are zero-padded) and the live part is merged into C; then the epilogue.
template <typename T, int MR, int NR, MicroFn<T> F>
void via_scratch(int64_t kc, const T* a, int64_t, int64_t, const T* b, int64_t, T* c,
                 int64_t ldc, T alpha, T beta, int m, int n, const T* bias, bool relu) {
  static_assert(MR * NR <= kMaxScratchTile, "scratch tile too small");
  if (m == MR && n == NR) {
    F(kc, a, b, c, ldc, alpha, beta);
    return epilogue_tile(c, ldc, m, n, bias, relu);
  }
  alignas(64) T tile[MR * NR];
  F(kc, a, b, tile, NR, T(1), T(0));
  for (int i = 0; i < m; ++i) {
    T* crow = c + i * ldc;
    const T* trow = tile + i * NR;
    if (beta == T(0)) {
      for (int j = 0; j < n; ++j) crow[j] = alpha * trow[j];
    } else {
      for (int j = 0; j < n; ++j) crow[j] = alpha * trow[j] + beta * crow[j];
    }
  }
  epilogue_tile(c, ldc, m, n, bias, relu);
}

// Portable micro-kernel: plain loops over a small accumulator array that the compiler keeps
// in (baseline SSE2) registers and vectorizes. Used as the "ref" float kernel and for double.
template <typename T, int MR, int NR>
void gemm_generic_micro(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T alpha, T beta) {
  T acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k) {
    for (int i = 0; i < MR; ++i) {
      const T ai = a[i];
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
    }
    a += MR;
    b += NR;
  }
  for (int i = 0; i < MR; ++i) {
    T* row = c + i * ldc;
    if (beta == T(0)) {
      for (int j = 0; j < NR; ++j) row[j] = alpha * acc[i][j];
    } else {
      for (int j = 0; j < NR; ++j) row[j] = alpha * acc[i][j] + beta * row[j];
    }
  }
}

const MicroKernel<float> kRefFloat{
    4, 8, via_scratch<float, 4, 8, gemm_generic_micro<float, 4, 8>>, false};
const MicroKernel<float> kAvx2Float{6, 16, via_scratch<float, 6, 16, gemm_avx2_6x16>, false};
const MicroKernel<float> kAvx512Float{14, 32, gemm_avx512_14x32, true};
const MicroKernel<float> kAvx512NarrowFloat{24, 16, gemm_avx512_24x16, true};
const MicroKernel<float> kAvx512WideFloat{6, 64, gemm_avx512_6x64, true};
const MicroKernel<double> kGenericDouble{
    4, 4, via_scratch<double, 4, 4, gemm_generic_micro<double, 4, 4>>, false};

// N <= 16 (e.g. the logits of a 10-class Dense layer) uses a 16-wide tile, 32 < N <= 64 a
// 64-wide one (one panel instead of two), where they exist.
const MicroKernel<float>& select_kernel(float*, int64_t N) {
  switch (current_gemm_kernel()) {
    case GemmKernel::Avx512:
      return N <= 16 ? kAvx512NarrowFloat : N > 32 && N <= 64 ? kAvx512WideFloat : kAvx512Float;
    case GemmKernel::Avx2: return kAvx2Float;
    case GemmKernel::Ref: break;
  }
  return kRefFloat;
}
const MicroKernel<double>& select_kernel(double*, int64_t) { return kGenericDouble; }

// ---- cache blocking ---------------------------------------------------------------------------
// Loop order (row-major C, vectors along N): jc over NC columns / pc over KC / ic over MC rows /
// ir over MR-row micro-panels of A / jr over NR-column micro-panels of B. One A micro-panel
// (MR x KC) stays in L1 while the jr loop streams the B micro-panels of the packed KC x NC block
// through it from L2 (the row-major mirror of BLIS, whose L1 operand is the broadcast one).
//   KC: the A micro-panel takes at most 1/3 of L1; the rest holds the B micro-panel streaming
//       past and the C tile.  L1 = 48 KiB, MR = 14 (AVX-512): 14*KC*4 <= 16 KiB -> KC = 288.
//   NC: the packed B block (KC x NC) takes at most 1/2 of L2, so it survives the A panels and
//       C rows that pass through.  L2 = 2 MiB: 288*NC*4 <= 1 MiB -> NC = 896 (a multiple of 32).
//   MC: the packed A block (MC x KC) takes at most 1/4 of L2 (it is read once per jc block, one
//       micro-panel at a time, so it may live in L3; it only sizes the unit of parallel work).
//       2 MiB / 4 / (288*4) -> MC = 448 (32 panels of 14).
// With the nominal 32 KiB L1 / 1 MiB L2 the same rules give KC = 192, NC = 672,
// MC = 336. Cache sizes come from the C library (CPUID leaf 4) at first use; when it knows
// nothing the nominal sizes are used.
struct CacheSizes {
  int64_t l1, l2;
};

const CacheSizes& cache_sizes() {
  static const CacheSizes sizes = [] {
    CacheSizes c{32 * 1024, 1024 * 1024};
#ifdef _SC_LEVEL1_DCACHE_SIZE
    const long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (l1 >= 16 * 1024 && l1 <= 1024 * 1024) c.l1 = l1;
    if (l2 >= 128 * 1024 && l2 <= 64 * 1024 * 1024) c.l2 = l2;
#endif
    return c;
  }();
  return sizes;
}

struct Blocking {
  int64_t mc, kc, nc;
};

// GRADFORGE_GEMM_BLOCKING="mc,kc,nc" overrides the computed sizes (for tuning experiments
// only; each value is rounded to the kernel's tile).
const Blocking* blocking_override() {
  static const Blocking* o = []() -> const Blocking* {
    static Blocking b;
    const char* env = std::getenv("GRADFORGE_GEMM_BLOCKING");
    long long mc, kc, nc;
    if (env && std::sscanf(env, "%lld,%lld,%lld", &mc, &kc, &nc) == 3 && mc > 0 && kc > 0 && nc > 0) {
      b = {mc, kc, nc};
      return &b;
    }
    return nullptr;
  }();
  return o;
}

template <typename T>
Blocking blocking_for(const MicroKernel<T>& uk) {
  const CacheSizes& cs = cache_sizes();
  const int64_t e = sizeof(T);
  Blocking b;
  b.kc = std::max<int64_t>(64, std::min<int64_t>(512, cs.l1 / 3 / (uk.mr * e) / 16 * 16));
  b.nc = std::max<int64_t>(uk.nr, cs.l2 * 3 / 4 / (b.kc * e) / uk.nr * uk.nr);
  b.mc = std::max<int64_t>(uk.mr, cs.l2 / 4 / (b.kc * e) / uk.mr * uk.mr);
  if (const Blocking* o = blocking_override()) {
    b.kc = std::max<int64_t>(8, o->kc / 8 * 8);
    b.nc = std::max<int64_t>(uk.nr, o->nc / uk.nr * uk.nr);
    b.mc = std::max<int64_t>(uk.mr, o->mc / uk.mr * uk.mr);
  }
  return b;
}

// dst[k * stride + r] = src[r * ld + k] for rows r < rows, k < kc: a transposing copy, for the
// operands whose packed layout runs across their rows (op(A) not transposed, op(B) transposed).
// Floats go through 4x4 SSE transposes (4 rows x 4 k at a time: 4 loads, 4 stores instead of
// 16 scalar stores); the rest is scattered one element at a time.
template <typename T>
void pack_transposed(const T* src, int64_t ld, int rows, int64_t kc, int64_t stride, T* dst) {
  int r = 0;
#if defined(__SSE2__)
  if constexpr (std::is_same<T, float>::value) {
    for (; r + 4 <= rows; r += 4) {
      const float* s0 = src + r * ld;
      const float* s1 = s0 + ld;
      const float* s2 = s1 + ld;
      const float* s3 = s2 + ld;
      int64_t k = 0;
      for (; k + 4 <= kc; k += 4) {
        __m128 r0 = _mm_loadu_ps(s0 + k), r1 = _mm_loadu_ps(s1 + k);
        __m128 r2 = _mm_loadu_ps(s2 + k), r3 = _mm_loadu_ps(s3 + k);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        float* d = dst + k * stride + r;
        _mm_storeu_ps(d, r0);
        _mm_storeu_ps(d + stride, r1);
        _mm_storeu_ps(d + 2 * stride, r2);
        _mm_storeu_ps(d + 3 * stride, r3);
      }
      for (; k < kc; ++k) {
        float* d = dst + k * stride + r;
        d[0] = s0[k], d[1] = s1[k], d[2] = s2[k], d[3] = s3[k];
      }
    }
  }
#endif
  for (; r < rows; ++r) {
    const T* s = src + r * ld;
    for (int64_t k = 0; k < kc; ++k) dst[k * stride + r] = s[k];
  }
}

// Pack rows [ic, ic+mc) x cols [pc, pc+kc) of op(A) into MR-tall, k-major micro-panels,
// zero-padding the last panel to MR rows.
template <typename T>
void pack_a(bool transA, const T* A, int64_t lda, int64_t ic, int64_t pc, int64_t mc,
            int64_t kc, int mr, T* dst) {
  for (int64_t ir = 0; ir < mc; ir += mr) {
    const int m = static_cast<int>(std::min<int64_t>(mr, mc - ir));
    if (!transA) {
      // op(A)(i, k) = A[i*lda + k]: each row is contiguous in k.
      pack_transposed(A + (ic + ir) * lda + pc, lda, m, kc, mr, dst);
      for (int i = m; i < mr; ++i)
        for (int64_t k = 0; k < kc; ++k) dst[k * mr + i] = T(0);
    } else {
      // op(A)(i, k) = A[k*lda + i]: for each k the mr values are contiguous.
      for (int64_t k = 0; k < kc; ++k) {
        const T* src = A + (pc + k) * lda + ic + ir;
        T* d = dst + k * mr;
        for (int i = 0; i < m; ++i) d[i] = src[i];
        for (int i = m; i < mr; ++i) d[i] = T(0);
      }
    }
    dst += static_cast<int64_t>(mr) * kc;
  }
}

// Pack NR-wide panels [p0, p1) of rows [pc, pc+kc) x cols [jc, jc+nc) of op(B), k-major,
// zero-padding the last panel to NR columns.
template <typename T>
void pack_b(bool transB, const T* B, int64_t ldb, int64_t pc, int64_t jc, int64_t kc,
            int64_t nc, int nr, int64_t p0, int64_t p1, T* packed) {
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t jr = p * nr;
    const int n = static_cast<int>(std::min<int64_t>(nr, nc - jr));
    T* dst = packed + p * kc * nr;
    if (!transB) {
      // op(B)(k, j) = B[k*ldb + j]: a contiguous run of n values per k.
      if (n == nr) {  // full panel: a fixed-size copy per k (memcpy uses the widest vectors)
        for (int64_t k = 0; k < kc; ++k)
          std::memcpy(dst + k * nr, B + (pc + k) * ldb + jc + jr, sizeof(T) * nr);
      } else {
        for (int64_t k = 0; k < kc; ++k) {
          const T* src = B + (pc + k) * ldb + jc + jr;
          T* d = dst + k * nr;
          for (int j = 0; j < n; ++j) d[j] = src[j];
          for (int j = n; j < nr; ++j) d[j] = T(0);
        }
      }
    } else {
      // op(B)(k, j) = B[j*ldb + k]: each column j is contiguous in k.
      pack_transposed(B + (jc + jr) * ldb + pc, ldb, n, kc, nr, dst);
      for (int j = n; j < nr; ++j)
        for (int64_t k = 0; k < kc; ++k) dst[k * nr + j] = T(0);
    }
  }
}

// C = beta * C, with beta == 0 writing zeros (never reading C).
template <typename T>
void scale_c(int64_t M, int64_t N, T beta, T* C, int64_t ldc) {
  if (beta == T(1)) return;
  for (int64_t i = 0; i < M; ++i) {
    T* row = C + i * ldc;
    if (beta == T(0)) std::fill(row, row + N, T(0));
    else for (int64_t j = 0; j < N; ++j) row[j] *= beta;
  }
}

// Per-thread packing buffers, reused across calls (a fresh allocation would page-fault).
thread_local ScratchBuffer tl_pack_a;
thread_local ScratchBuffer tl_pack_b;

// Threading policy (GemmParallel::Auto):
// 1. Products smaller than kParallelFlops multiply-adds stay on the calling thread: the
//    fork-join costs a pool wake-up. Measured on the quiet 2-vCPU VM with one fork-join per
//    product (gemm_parallel), 2 threads vs 1: 128^3 (2.1M) 0.95x, 160^3 (4.1M) 1.1-1.5x,
//    64x784x128 (6.4M) 1.05-1.15x, 128x128x784 (12.8M) 1.5-1.65x, 256^3 1.2-1.4x, 1024^3 1.8x.
//    The team (gemm_team) made the small ones pay: on Zen 4, 2 threads, 128^3 161 GFLOP/s
//    against 93 on one, 64x128x128 (1M) 154. So the threshold is 2^20, and the site below
//    decides the rest (the MLP's 128x128x128 training products: its step unchanged, 8 rounds).
// 2. Larger products go through an AdaptiveParallel site (threadpool.h), which times the calls
//    and keeps, per size of product, whichever of "pool" and "calling thread" has been faster
//    lately. On this VM the second vCPU is often busy with other tenants: then 2 GEMM threads
//    measured up to 4x *slower* than one (the band of a descheduled thread finishes a
//    scheduler quantum late), and when it is quiet they are up to 1.9x faster. So "two
//    threads are never slower than one" is kept by watching what the calls cost, not guessing.
constexpr double kParallelFlops = 1048576.0;
// The most memory a whole packed K slice of A may take (per thread) before it is packed per MC
// block again (16 MiB: M = 14,000 rows at KC = 288).
constexpr double kMaxWholeA = 16.0 * 1024 * 1024;
constexpr double kStoreCost = 16.0;

// GRADFORGE_GEMM_PARALLEL=auto|always|never sets the initial policy (for benchmarks).
int initial_parallel_policy() {
  const char* env = std::getenv("GRADFORGE_GEMM_PARALLEL");
  if (env && std::strcmp(env, "always") == 0) return static_cast<int>(GemmParallel::Always);
  if (env && std::strcmp(env, "never") == 0) return static_cast<int>(GemmParallel::Never);
  return static_cast<int>(GemmParallel::Auto);
}
std::atomic<int> g_parallel_policy{initial_parallel_policy()};

AdaptiveParallel& gemm_site() {
  static AdaptiveParallel site;
  return site;
}

// Splits `total` into the fewest blocks of at most `max_block`, of near-equal size rounded up to
// a multiple of `align` (K = 300 with KC = 288 becomes 2 x 152, not 288 + 12).
int64_t balanced_block(int64_t total, int64_t max_block, int64_t align) {
  const int64_t blocks = (total + max_block - 1) / max_block;
  const int64_t each = (total + blocks - 1) / blocks;
  return std::min(max_block, (each + align - 1) / align * align);
}

// All of op(B) packed once, shared by a team (gemm_team): K slice pc (KC rows) starts at
// data + pc * padded_n; in it, NR-wide panel q (counting from column 0) at + q * kc * NR. A
// part of C starting at column first_panel * NR reads its panels from there.
template <typename T>
struct PackedB {
  const T* data = nullptr;
  int64_t padded_n = 0;
  int64_t first_panel = 0;
};

// One thread's GEMM on its part of C: the whole Goto/BLIS loop nest, packing into this
// thread's own buffers (B: unless `packed` holds it already).
template <typename T>
void gemm_blocked(const MicroKernel<T>& uk, bool transA, bool transB, int64_t M, int64_t N,
                  int64_t K, T alpha, const T* A, int64_t lda, const T* B, int64_t ldb, T beta,
                  T* C, int64_t ldc, const GemmEpilogue<T>& epi,
                  const PackedB<T>& packed = PackedB<T>{}) {
  const int mr = uk.mr, nr = uk.nr;
  const Blocking blk = blocking_for(uk);
  const int64_t NC = balanced_block(N, blk.nc, nr);
  const int64_t KC = balanced_block(K, blk.kc, 8);
  const int64_t MC = balanced_block(M, blk.mc, mr);

  // Packing pays for itself by reuse: a packed A micro-panel is read once per B micro-panel,
  // a packed B micro-panel once per A micro-panel. With at most two column panels (N <= 2 NR)
  // A is read straight from the caller's matrix; with one (N <= NR, e.g. 10 logits) B is too,
  // unaligned and masked at the edge. Wider B stays packed for larger M: read in place,
  // its rows (ldb apart, often a multiple of 512 bytes) fall into a few L1 sets and evict the
  // A micro-panel; measured, 64x784x128 ran ~25% slower unpacked.
  // With a single A micro-panel (M <= MR: batch-1 inference, a GEMV) every B micro-panel is
  // used once, so packing B would only double the traffic: B is read in place then too.
  const bool direct_b = !packed.data && uk.strided && !transB && (N <= nr || M <= mr);
  const bool direct_a = uk.strided && N <= 2 * nr;
  const bool own_b = !direct_b && !packed.data;
  // With several column blocks (N > NC) each K slice of A would be packed once per block:
  // then the whole slice (all M rows) is packed once and kept (in L3) for all of them. That
  // was 1/4 to 1/3 of the time spent outside the micro-kernels at 1024^3-2048^3. With a
  // single column block each MC block is packed just before use instead (it stays in L2).
  const bool a_whole = !direct_a && N > NC &&
                       static_cast<double>(M) * static_cast<double>(KC) * sizeof(T) <= kMaxWholeA;
  const int64_t a_rows = a_whole ? M : std::min(MC, M);
  T* bpack = !own_b ? nullptr : static_cast<T*>(tl_pack_b.get(
      sizeof(T) * KC * ((std::min(NC, N) + nr - 1) / nr * nr)));
  T* apack = direct_a ? nullptr : static_cast<T*>(tl_pack_a.get(
      sizeof(T) * KC * ((a_rows + mr - 1) / mr * mr)));
  // A's strides: packed panels (1, mr); the caller's A: (lda, 1) or, transposed, (1, lda).
  const int64_t a_rs = direct_a && !transA ? lda : 1;

  // K slices outermost, so that a slice of A packed whole serves every column block.
  for (int64_t pc = 0; pc < K; pc += KC) {
    const int64_t kc = std::min(KC, K - pc);
    const T beta_eff = pc == 0 ? beta : T(1);
    const bool last_k = pc + kc >= K;
    if (a_whole) pack_a(transA, A, lda, 0, pc, M, kc, mr, apack);
    for (int64_t jc = 0; jc < N; jc += NC) {
      const int64_t nc = std::min(NC, N - jc);
      const int64_t panels = (nc + nr - 1) / nr;
      if (own_b) pack_b(transB, B, ldb, pc, jc, kc, nc, nr, int64_t(0), panels, bpack);
      // Where micro-panel p of B starts, and its row stride.
      const T* b0 = direct_b      ? B + pc * ldb + jc
                    : packed.data ? packed.data + pc * packed.padded_n +
                                        (packed.first_panel + jc / nr) * kc * nr
                                  : bpack;
      const int64_t b_ld = direct_b ? ldb : nr;
      const int64_t b_panel = direct_b ? nr : kc * nr;
      const int64_t a_ks = !direct_a ? mr : transA ? lda : 1;

      for (int64_t ic = 0; ic < M; ic += MC) {
        const int64_t mc = std::min(MC, M - ic);
        if (!direct_a && !a_whole) pack_a(transA, A, lda, ic, pc, mc, kc, mr, apack);
        // A whole slice's panels: row ic (a multiple of MR) starts at ic * kc.
        const T* ablock = a_whole ? apack + ic * kc : apack;
        for (int64_t ir = 0; ir < mc; ir += mr) {
          const int m = static_cast<int>(std::min<int64_t>(mr, mc - ir));
          const T* ap = !direct_a ? ablock + ir * kc
                        : transA  ? A + pc * lda + ic + ir
                                  : A + (ic + ir) * lda + pc;
          T* crow = C + (ic + ir) * ldc + jc;
          for (int64_t p = 0; p < panels; ++p) {
            const int64_t jr = p * nr;
            const int n = static_cast<int>(std::min<int64_t>(nr, nc - jr));
            // The epilogue goes with the last K block, in the micro-kernel's store.
            const T* bias = last_k && epi.bias ? epi.bias + jc + jr : nullptr;
            const bool relu = last_k && epi.act == GemmActivation::Relu;
            uk.fn(kc, ap, a_rs, a_ks, b0 + p * b_panel, b_ld, crow + jr, ldc, alpha, beta_eff, m,
                  n, bias, relu);
          }
        }
      }
    }
  }
}

// Splits C over `threads` threads with one fork-join per call (no barrier per K block): into
// row bands (multiples of MR: every thread packs only its own rows of A and its own copy of B)
// or column bands (multiples of NR, which are whole 64-byte lines of C, so threads never write
// the same cache line: every thread packs its own columns of B and its own copy of A),
// whichever copies less (see by_rows).
// Returns whether the bands really ran on the pool (see parallel_for).
template <typename T>
bool gemm_parallel(const MicroKernel<T>& uk, int threads, bool transA, bool transB, int64_t M,
                   int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                   int64_t ldb, T beta, T* C, int64_t ldc, const GemmEpilogue<T>& epi) {
  // Row bands make every thread pack all of B (K x N each), column bands all of A (M x K
  // each): split the way that duplicates less, where there are enough tiles to split.
  const bool rows_possible = M >= 2 * uk.mr * threads;
  const bool cols_possible = N >= 2 * uk.nr * threads;
  const bool by_rows = rows_possible ? (!cols_possible || N <= M)
                       : !cols_possible && (M + uk.mr - 1) / uk.mr >= (N + uk.nr - 1) / uk.nr;
  const int64_t unit = by_rows ? uk.mr : uk.nr;
  const int64_t units = ((by_rows ? M : N) + unit - 1) / unit;
  const int64_t parts = std::min<int64_t>(threads, units);
  // Wake::Always: the caller's AdaptiveParallel site times the calls, wake-ups included.
  return parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t u0 = p * units / parts, u1 = (p + 1) * units / parts;
      if (by_rows) {
        const int64_t r0 = u0 * unit, r1 = std::min(M, u1 * unit);
        const T* Ap = transA ? A + r0 : A + r0 * lda;
        gemm_blocked(uk, transA, transB, r1 - r0, N, K, alpha, Ap, lda, B, ldb, beta,
                     C + r0 * ldc, ldc, epi);
      } else {
        const int64_t c0 = u0 * unit, c1 = std::min(N, u1 * unit);
        const T* Bp = transB ? B + c0 * ldb : B + c0;
        GemmEpilogue<T> band = epi;
        if (band.bias) band.bias += c0;
        gemm_blocked(uk, transA, transB, M, c1 - c0, K, alpha, A, lda, Bp, ldb, beta, C + c0,
                     ldc, band);
      }
    }
  }, Wake::Always);
}


// ---- one product shared by a team of threads --------------------------------------------------
// For products whose packed B fits in L2 (and kMaxTeamB): C is cut into units of a few row
// panels (times a column range when there are few rows), claimed one at a time from a shared
// counter by every thread of the team. A thread first packs all of op(B) into its own buffer, then computes the
// units it claims, each a gemm_blocked of that part of C which packs its own rows of A and
// reads the thread's packed B. So
//   - a thread that arrives late, or is descheduled, holds back at most the unit it holds: the
//     others take the rest of its share, and a thread still packing holds back nothing (one
//     band per thread made the caller wait for the whole band of a worker woken late:
//     128x784x128 took 240 us on two threads against 159 on one);
//   - B is packed once per thread, as with bands. (One copy shared by the team costs more here:
//     the units of one thread then read panels another core packed, cache lines moving between
//     cores, and 64x784x128 ran at 163 GFLOP/s on two threads against 296 with private copies.)
// There is no barrier. Each tile is computed by the same micro-kernel call as in the serial
// product, with the same K slices, so the result has the serial bits.
// A packed B larger than L2 goes to the bands instead: a team thread packs all of it before its
// first unit, so each unit reads its K slices back from L3, where a band packs one KC x NC block
// and uses it while it is in L2 (Zen 4, 2 threads, 6 alternating rounds: 768^3 ~7% and 1024^3
// ~3% faster in bands; 128x784x256, 800 KB of B, 10-40% faster as a team).
constexpr double kMaxTeamB = 4.0 * 1024 * 1024;
thread_local ScratchBuffer tl_team_b;

// Whether gemm_team takes this product (else gemm_parallel's bands).
template <typename T>
bool team_fits(const MicroKernel<T>& uk, int64_t N, int64_t K) {
  const int64_t padded_n = (N + uk.nr - 1) / uk.nr * uk.nr;
  const double limit = std::min(kMaxTeamB, static_cast<double>(cache_sizes().l2));
  return static_cast<double>(K) * static_cast<double>(padded_n) * sizeof(T) <= limit;
}

// Returns whether the team really ran on the pool (see parallel_for).
template <typename T>
bool gemm_team(const MicroKernel<T>& uk, int threads, bool transA, bool transB, int64_t M,
               int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B, int64_t ldb,
               T beta, T* C, int64_t ldc, const GemmEpilogue<T>& epi) {
  const int mr = uk.mr, nr = uk.nr;
  const int64_t KC = balanced_block(K, blocking_for(uk).kc, 8);
  const int64_t col_panels = (N + nr - 1) / nr, row_panels = (M + mr - 1) / mr;
  // B read in place by the serial product (gemm_blocked's rule): its parts read it in place
  // too, and there is nothing to pack.
  const bool pack = !(uk.strided && !transB && (N <= nr || M <= mr));
  // Units: a few per thread, so that a late thread's share is a small part of the whole.
  const int64_t want = 4 * threads;
  const int64_t col_split =
      row_panels >= want ? 1 : std::min(col_panels, (want + row_panels - 1) / row_panels);
  const int64_t row_groups = std::min(row_panels, want);
  const int64_t units = row_groups * col_split;

  // Each thread starts on its own segment of the units (its home: thread_index(), 0 for the
  // caller) and then takes what is left of the others'. When the threads keep pace they compute
  // the same parts of C call after call, so C's lines stay in the cache of the core that wrote
  // them (units handed out from one counter moved them between cores: 6272x9x32 ran at 150
  // GFLOP/s against 245); a late thread's segment is taken over by the others.
  struct alignas(64) Segment {
    std::atomic<int64_t> next{0};
    int64_t end = 0;
  };
  constexpr int kMaxSegments = 64;
  Segment segments[kMaxSegments];
  const int nseg = std::min(threads, kMaxSegments);
  for (int i = 0; i < nseg; ++i) {
    segments[i].next.store(i * units / nseg, std::memory_order_relaxed);
    segments[i].end = (i + 1) * units / nseg;
  }
  auto member = [&] {
    PackedB<T> packed;
    if (pack) {
      packed.padded_n = col_panels * nr;
      T* dst = static_cast<T*>(tl_team_b.get(sizeof(T) * K * packed.padded_n));
      for (int64_t pc = 0; pc < K; pc += KC)
        pack_b(transB, B, ldb, pc, int64_t(0), std::min(KC, K - pc), N, nr, int64_t(0),
               col_panels, dst + pc * packed.padded_n);
      packed.data = dst;
    }
    const int home = thread_index() % nseg;
    for (int k = 0; k < nseg; ++k) {
      Segment& seg = segments[(home + k) % nseg];
      for (;;) {
      const int64_t u = seg.next.fetch_add(1, std::memory_order_relaxed);
      if (u >= seg.end) break;
      const int64_t g = u / col_split, c = u % col_split;
      const int64_t r0 = g * row_panels / row_groups * mr;
      const int64_t r1 = std::min(M, (g + 1) * row_panels / row_groups * mr);
      const int64_t q0 = c * col_panels / col_split, q1 = (c + 1) * col_panels / col_split;
      const int64_t c0 = q0 * nr, c1 = std::min(N, q1 * nr);
      if (r0 >= r1 || c0 >= c1) continue;
      const T* Ap = transA ? A + r0 : A + r0 * lda;
      const T* Bp = pack ? B : transB ? B + c0 * ldb : B + c0;
      GemmEpilogue<T> part = epi;
      if (part.bias) part.bias += c0;
      PackedB<T> pb = packed;
      pb.first_panel = q0;
      gemm_blocked(uk, transA, transB, r1 - r0, c1 - c0, K, alpha, Ap, lda, Bp, ldb, beta,
                   C + r0 * ldc + c0, ldc, part, pb);
      }
    }
  };
  // Wake::Always: the caller's AdaptiveParallel site times the calls, wake-ups included.
  return parallel_for(threads, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t i = p0; i < p1; ++i) member();
  }, Wake::Always);
}

}  // namespace

void set_gemm_parallel(GemmParallel p) {
  g_parallel_policy.store(static_cast<int>(p), std::memory_order_relaxed);
}

// Products of at most kFewRows rows with B not transposed (batch-1..8 inference, a GEMV): on
// AVX-512, one pass over B in place by gemm_avx512_rows, on the calling thread. Such a product
// is bound by reading B, which packing would double.
// Returns false where it does not apply (the blocked path runs).
constexpr int64_t kFewRows = 8;
// B above this many bytes is worth the pool: a large GEMV (1x4096x4096, 64 MiB) streams from
// memory, which two cores read faster than one; the blocked path splits it.
constexpr double kFewRowsMaxBBytes = 4.0 * 1024 * 1024;

bool few_rows(float*, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
              int64_t lda, bool transA, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
              const GemmEpilogue<float>& epi) {
  if (M > kFewRows || transB || current_gemm_kernel() != GemmKernel::Avx512) return false;
  if (static_cast<double>(K) * static_cast<double>(N) * sizeof(float) > kFewRowsMaxBBytes && num_threads() > 1) return false;
  // K in the same blocks as the blocked path's (each block's sum stored, the next added to it):
  // then every row of C has the same bits whatever the number of rows it was computed with, so
  // a batch of 1 gives the bits of that row in a batch of 32, and a convolution computed in
  // blocks of output rows those of the whole.
  const int64_t KC = balanced_block(K, blocking_for(select_kernel(static_cast<float*>(nullptr), N)).kc, 8);
  const int64_t a_rs = transA ? 1 : lda, a_ks = transA ? lda : 1;
  for (int64_t pc = 0; pc < K; pc += KC) {
    const int64_t kc = std::min(KC, K - pc);
    const bool last = pc + kc >= K;
    gemm_avx512_rows(static_cast<int>(M), kc, N, A + pc * a_ks, a_rs, a_ks, B + pc * ldb, ldb, C,
                     ldc, alpha, pc == 0 ? beta : 1.0f, last ? epi.bias : nullptr,
                     last && epi.act == GemmActivation::Relu);
  }
  return true;
}
bool few_rows(double*, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, bool,
              const double*, int64_t, double, double*, int64_t, const GemmEpilogue<double>&) {
  return false;
}

template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc,
          const GemmEpilogue<T>& epi) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == T(0)) {
    scale_c(M, N, beta, C, ldc);
    epilogue_tile(C, ldc, M, N, epi.bias, epi.act == GemmActivation::Relu);
    return;
  }
  if (few_rows(static_cast<T*>(nullptr), transB, M, N, K, alpha, A, lda, transA, B, ldb, beta, C,
               ldc, epi))
    return;
  const MicroKernel<T>& uk = select_kernel(static_cast<T*>(nullptr), N);
  const int threads = num_threads();
  // Cost in multiply-add equivalents: the products plus about kStoreCost per element of C
  // (its loads and stores are what a product with a small K spends most of its time on).
  const double work = static_cast<double>(M) * static_cast<double>(N) *
                      (static_cast<double>(K) + kStoreCost);
  const auto policy = static_cast<GemmParallel>(g_parallel_policy.load(std::memory_order_relaxed));
  auto serial = [&] {
    gemm_blocked(uk, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, epi);
  };
  auto pooled = [&] {
    if (team_fits(uk, N, K))
      return gemm_team(uk, threads, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                       epi);
    return gemm_parallel(uk, threads, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                         epi);
  };
  if (threads <= 1 || in_parallel_region() || policy == GemmParallel::Never) return serial();
  if (policy == GemmParallel::Always) {
    pooled();
    return;
  }
  if (work < kParallelFlops) return serial();
  gemm_site().run(work, pooled, serial);
}

template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  gemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, GemmEpilogue<T>{});
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                           int64_t, const double*, int64_t, double, double*, int64_t);
template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t,
                          const GemmEpilogue<float>&);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                           int64_t, const double*, int64_t, double, double*, int64_t,
                           const GemmEpilogue<double>&);

}  // namespace gf

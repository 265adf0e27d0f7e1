// GEMM driver in the Goto/BLIS structure:
//   for jc (NC columns of C) / for pc (KC slice of K): pack op(B) into NR-wide panels (shared)
//     for ic (MC rows) [parallel, with column groups when M is small]: pack op(A) into MR-tall
//       panels (per thread), then for jr / for ir: micro-kernel on an MR x NR tile of C.
// Packing absorbs transposes, leading dimensions and edge padding (zeros), so the micro-kernels
// see only aligned dense panels. Edge tiles go through a scratch tile. beta is applied on the
// first K slice only (later slices accumulate with beta = 1); beta == 0 never reads C.
// Not here: argument checks (binding), ISA-specific code (gemm_<isa>_<MR>x<NR>.cc).
#include "cpu/gemm.h"

#include <algorithm>
#include <cstring>

#include "cpu/cpu_features.h"
#include "cpu/gemm_microkernels.h"
#include "cpu/scratch.h"
#include "cpu/threadpool.h"

namespace gf {
namespace {

template <typename T>
using MicroFn = void (*)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T alpha, T beta);

// A micro-kernel and the cache blocking that suits it.
//   kc: A micro-panel (MR*kc) + B micro-panel (kc*NR) stay in L1.
//   mc: the packed A block (mc*kc) stays in L2.   nc: the packed B slice (kc*nc) in L3.
template <typename T>
struct MicroKernel {
  int mr, nr;
  int64_t mc, kc, nc;
  MicroFn<T> fn;
};

constexpr int kMaxTile = 6 * 32;  // largest MR*NR of any kernel (for the edge scratch tile)

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

const MicroKernel<float> kRefFloat{4, 8, 128, 256, 4096, gemm_generic_micro<float, 4, 8>};
const MicroKernel<float> kAvx2Float{6, 16, 144, 256, 4096, gemm_avx2_6x16};
const MicroKernel<float> kAvx512Float{6, 32, 144, 256, 4096, gemm_avx512_6x32};
const MicroKernel<double> kGenericDouble{4, 4, 128, 256, 2048, gemm_generic_micro<double, 4, 4>};

const MicroKernel<float>& select_kernel(float*) {
  switch (current_gemm_kernel()) {
    case GemmKernel::Avx512: return kAvx512Float;
    case GemmKernel::Avx2: return kAvx2Float;
    case GemmKernel::Ref: break;
  }
  return kRefFloat;
}
const MicroKernel<double>& select_kernel(double*) { return kGenericDouble; }

// Pack rows [ic, ic+mc) x cols [pc, pc+kc) of op(A) into MR-tall, k-major micro-panels,
// zero-padding the last panel to MR rows.
template <typename T>
void pack_a(bool transA, const T* A, int64_t lda, int64_t ic, int64_t pc, int64_t mc,
            int64_t kc, int mr, T* dst) {
  for (int64_t ir = 0; ir < mc; ir += mr) {
    const int m = static_cast<int>(std::min<int64_t>(mr, mc - ir));
    if (!transA) {
      // op(A)(i, k) = A[i*lda + k]: each row is contiguous in k; scatter it with stride mr.
      for (int i = 0; i < m; ++i) {
        const T* src = A + (ic + ir + i) * lda + pc;
        for (int64_t k = 0; k < kc; ++k) dst[k * mr + i] = src[k];
      }
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
      for (int64_t k = 0; k < kc; ++k) {
        const T* src = B + (pc + k) * ldb + jc + jr;
        T* d = dst + k * nr;
        for (int j = 0; j < n; ++j) d[j] = src[j];
        for (int j = n; j < nr; ++j) d[j] = T(0);
      }
    } else {
      // op(B)(k, j) = B[j*ldb + k]: each column j is contiguous in k.
      for (int j = 0; j < n; ++j) {
        const T* src = B + (jc + jr + j) * ldb + pc;
        for (int64_t k = 0; k < kc; ++k) dst[k * nr + j] = src[k];
      }
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

// Problems smaller than this many multiply-adds stay on the calling thread: each K block costs
// two pool wake-ups, and measured on this 2-vCPU machine a 128x128x784 product (a Dense
// forward at batch 128) ran 2.2x slower on two threads than on one, while 256^3 gained only
// 10%. Issue 3 tunes this properly; until then only products of at least 2^25 multiply-adds
// (e.g. 512x256x256) are split.
constexpr double kParallelFlops = 33554432.0;

template <typename T>
void gemm_blocked(const MicroKernel<T>& uk, bool transA, bool transB, int64_t M, int64_t N,
                  int64_t K, T alpha, const T* A, int64_t lda, const T* B, int64_t ldb, T beta,
                  T* C, int64_t ldc) {
  const int mr = uk.mr, nr = uk.nr;
  const int threads = num_threads();
  const bool parallel =
      threads > 1 && static_cast<double>(M) * static_cast<double>(N) * K >= kParallelFlops;

  const int64_t nc_max = std::min(uk.nc, (N + nr - 1) / nr * nr);
  const int64_t kc_max = std::min(uk.kc, K);
  T* bpack = static_cast<T*>(tl_pack_b.get(sizeof(T) * kc_max * nc_max));

  for (int64_t jc = 0; jc < N; jc += uk.nc) {
    const int64_t nc = std::min(uk.nc, N - jc);
    const int64_t panels = (nc + nr - 1) / nr;
    for (int64_t pc = 0; pc < K; pc += uk.kc) {
      const int64_t kc = std::min(uk.kc, K - pc);
      const T beta_eff = pc == 0 ? beta : T(1);

      auto pack_b_range = [&](int64_t p0, int64_t p1) {
        pack_b(transB, B, ldb, pc, jc, kc, nc, nr, p0, p1, bpack);
      };
      if (parallel) parallel_for(panels, 4, pack_b_range);
      else pack_b_range(0, panels);

      // Work items: (row block of MC) x (group of B panels). When M is small there are few row
      // blocks, so split the columns too to keep every thread busy.
      const int64_t mblocks = (M + uk.mc - 1) / uk.mc;
      int64_t groups = 1;
      if (parallel && mblocks < 2 * threads)
        groups = std::min<int64_t>(panels, (2 * threads + mblocks - 1) / mblocks);
      const int64_t items = mblocks * groups;

      auto compute = [&](int64_t i0, int64_t i1) {
        T* apack = static_cast<T*>(tl_pack_a.get(sizeof(T) * kc * ((uk.mc + mr - 1) / mr * mr)));
        alignas(64) T tile[kMaxTile];
        int64_t packed_block = -1;
        for (int64_t item = i0; item < i1; ++item) {
          const int64_t blk = item / groups, grp = item % groups;
          const int64_t ic = blk * uk.mc;
          const int64_t mc = std::min(uk.mc, M - ic);
          // Consecutive items of one thread often share the row block: pack A once for them.
          if (blk != packed_block) {
            pack_a(transA, A, lda, ic, pc, mc, kc, mr, apack);
            packed_block = blk;
          }
          const int64_t p0 = grp * panels / groups, p1 = (grp + 1) * panels / groups;
          for (int64_t p = p0; p < p1; ++p) {
            const int64_t jr = p * nr;
            const int n = static_cast<int>(std::min<int64_t>(nr, nc - jr));
            const T* bp = bpack + p * kc * nr;
            for (int64_t ir = 0; ir < mc; ir += mr) {
              const int m = static_cast<int>(std::min<int64_t>(mr, mc - ir));
              const T* ap = apack + ir * kc;
              T* c = C + (ic + ir) * ldc + jc + jr;
              if (m == mr && n == nr) {
                uk.fn(kc, ap, bp, c, ldc, alpha, beta_eff);
              } else {
                // Edge: compute the full tile into scratch, then merge the valid part.
                uk.fn(kc, ap, bp, tile, nr, T(1), T(0));
                for (int i = 0; i < m; ++i) {
                  T* crow = c + i * ldc;
                  const T* trow = tile + i * nr;
                  if (beta_eff == T(0)) {
                    for (int j = 0; j < n; ++j) crow[j] = alpha * trow[j];
                  } else {
                    for (int j = 0; j < n; ++j) crow[j] = alpha * trow[j] + beta_eff * crow[j];
                  }
                }
              }
            }
          }
        }
      };
      if (parallel) parallel_for(items, 1, compute);
      else compute(0, items);
    }
  }
}

}  // namespace

template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == T(0)) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  const MicroKernel<T>& uk = select_kernel(static_cast<T*>(nullptr));
  gemm_blocked(uk, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                           int64_t, const double*, int64_t, double, double*, int64_t);

}  // namespace gf

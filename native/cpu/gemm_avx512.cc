// AVX-512F float GEMM micro-kernels. Two tile shapes, each instantiated for every row count:
//   14x32: 14 rows x 2 zmm (32 columns) = 28 accumulators + 2 B registers + 1 broadcast = 31 of
//          the 32 zmm registers; per k step 2 aligned B loads and 14 broadcasts of A feed 28
//          FMAs, so loads never limit the 2 FMA/cycle of the core (Sapphire Rapids, Ice Lake
//          server; Zen 4 splits each zmm op in two but still gains from the registers).
//   24x16: 24 rows x 1 zmm, for products with N <= 16 (e.g. a 10-class Dense layer), where a
//          32-wide tile would waste more than half of every FMA.
//   6x64:  6 rows x 4 zmm = 24 accumulators + 4 B registers + 1 broadcast, for 32 < N <= 64
//          (the 64-channel convolutions and Dense layers): 10 loads feed 24 FMAs where 14x32
//          needs 16 for 28, which measured 0.86-0.89 of the FMA peak in L1 against 0.82.
// Edges cost nothing extra: fewer rows run an instantiation with fewer accumulators (rows past
// m are never read), fewer columns use AVX-512 mask registers for the loads and stores of C.
// Compiled with -mavx512f; called only when CPUID/XGETBV report AVX-512 (cpu_features.cc).
// Not here: packing, blocking, threads (gemm.cc).
#include <immintrin.h>

#include <algorithm>
#include <utility>

#include "cpu/gemm_microkernels.h"

namespace gf {
namespace {

inline __mmask16 lane_mask(int n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

// M rows of C (M <= MR), NV zmm per row.
//   A: element (row i, step k) at a[i * a_rs + k * a_ks]. Packed panels have a_rs = 1,
//      a_ks = MR (ROW_CONTIG lets the compiler fold the row offsets into the broadcasts);
//      the unpacked paths pass a transposed A (a_rs = 1, a_ks = lda) or a plain one
//      (a_rs = lda, a_ks = 1).
//   B: row k at b + k * ldb, 16*NV floats; packed panels have ldb = 16*NV (and are aligned);
//      an unpacked B has the caller's ldb and may end right after column n, so partial tiles
//      load B with masks.
// (Named for its ISA: test/package scans the shipped binary for AVX instructions outside
// functions whose names say which ISA they need.)
//   bias, relu: the epilogue, applied in registers as C is stored: + bias[j] (bias points at
//      this tile's first column; null: none), then v < 0 ? 0 : v.
template <int M, int NV, bool ROW_CONTIG>
void avx512_tile(int64_t kc, const float* __restrict a, int64_t a_rs, int64_t a_ks,
          const float* __restrict b, int64_t ldb, float* c, int64_t ldc, float alpha,
          float beta, int n, const float* bias, bool relu) {
  __m512 acc[M][NV];
#pragma GCC unroll 28
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 24
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();

#pragma GCC unroll 28
  for (int i = 0; i < M; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);

  __mmask16 mask[NV];
#pragma GCC unroll 24
  for (int v = 0; v < NV; ++v) mask[v] = lane_mask(n - 16 * v);
  const bool full = n >= 16 * NV;
  const int64_t rs = ROW_CONTIG ? 1 : a_rs;

  if (full) {
#pragma GCC unroll 2
    for (int64_t k = 0; k < kc; ++k) {
      __m512 bv[NV];
#pragma GCC unroll 24
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + 16 * v);
      // B streams from L2 (the A micro-panel stays in L1): ask for it ~8 k steps ahead.
      // one prefetch per 64-byte line of the B row
#pragma GCC unroll 24
      for (int v = 0; v < NV; ++v) _mm_prefetch(reinterpret_cast<const char*>(b + 8 * ldb + 16 * v), _MM_HINT_T0);
#pragma GCC unroll 28
      for (int i = 0; i < M; ++i) {
        const __m512 av = _mm512_set1_ps(a[i * rs]);
#pragma GCC unroll 24
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
      }
      a += a_ks;
      b += ldb;
    }
  } else {
    for (int64_t k = 0; k < kc; ++k) {
      __m512 bv[NV];
#pragma GCC unroll 24
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_maskz_loadu_ps(mask[v], b + 16 * v);
#pragma GCC unroll 28
      for (int i = 0; i < M; ++i) {
        const __m512 av = _mm512_set1_ps(a[i * rs]);
#pragma GCC unroll 24
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
      }
      a += a_ks;
      b += ldb;
    }
  }

  const __m512 va = _mm512_set1_ps(alpha);
  const __m512 zero = _mm512_setzero_ps();
  // The epilogue in the same order of operations as a separate pass over C would take (so the
  // result is the same bit for bit): (alpha acc + beta C) + bias, then relu as v < 0 ? 0 : v
  // (an ordered compare: NaN and -0 pass through unchanged).
  auto finish = [&](__m512 r, int v) {
    if (bias) r = _mm512_add_ps(r, full ? _mm512_loadu_ps(bias + 16 * v) : _mm512_maskz_loadu_ps(mask[v], bias + 16 * v));
    if (relu) r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(r, zero, _CMP_LT_OQ), zero);
    return r;
  };
  if (beta == 0.0f) {
    // BLAS semantics: C's old contents are never read (NaN in C does not propagate).
#pragma GCC unroll 28
    for (int i = 0; i < M; ++i)
#pragma GCC unroll 24
      for (int v = 0; v < NV; ++v) {
        float* p = c + i * ldc + 16 * v;
        const __m512 r = finish(_mm512_mul_ps(va, acc[i][v]), v);
        if (full) _mm512_storeu_ps(p, r);
        else _mm512_mask_storeu_ps(p, mask[v], r);
      }
  } else {
    const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 28
    for (int i = 0; i < M; ++i)
#pragma GCC unroll 24
      for (int v = 0; v < NV; ++v) {
        float* p = c + i * ldc + 16 * v;
        if (full) {
          _mm512_storeu_ps(p, finish(_mm512_fmadd_ps(va, acc[i][v], _mm512_mul_ps(vb, _mm512_loadu_ps(p))), v));
        } else {
          const __m512 old = _mm512_maskz_loadu_ps(mask[v], p);
          _mm512_mask_storeu_ps(p, mask[v], finish(_mm512_fmadd_ps(va, acc[i][v], _mm512_mul_ps(vb, old)), v));
        }
      }
  }
}

// ---- few rows: C (m <= 8 rows) = alpha * A B + beta C, B read in place ---------------------
// A GEMV-like product (batch-1 inference) is bound by streaming B. The tiles above keep 2-4
// zmm per row and walk B one 32-64-column panel at a time: with one row that is a chain of
// dependent FMAs per panel and B rows ldb apart. Here the same tile runs over all of K with
// up to 24 zmm per row, spanning up to 384 columns, so each B row is read once, contiguously,
// by independent FMAs.
// Zmm per row for m rows: the accumulators take at most 24 of the 32 registers. Full blocks
// of 24 / m zmm, then one block just wide enough for the rest (N = 128 with one row: a single
// block of 8 zmm, 8 independent FMA chains, rather than two of 4).
template <int M, int NV>
void avx512_rows_tail(int nv, int64_t K, const float* a, int64_t a_rs, int64_t a_ks, const float* b,
                      int64_t ldb, float* c, int64_t ldc, float alpha, float beta, int n,
                      const float* bias, bool relu) {
  if constexpr (NV > 1) {
    if (nv < NV) return avx512_rows_tail<M, NV - 1>(nv, K, a, a_rs, a_ks, b, ldb, c, ldc, alpha, beta, n, bias, relu);
  }
  avx512_tile<M, NV, false>(K, a, a_rs, a_ks, b, ldb, c, ldc, alpha, beta, n, bias, relu);
}

template <int M>
void avx512_rows(int64_t K, int64_t N, const float* a, int64_t a_rs, int64_t a_ks, const float* b,
                 int64_t ldb, float* c, int64_t ldc, float alpha, float beta, const float* bias,
                 bool relu) {
  constexpr int NV = 24 / M;
  constexpr int64_t cols = 16 * NV;
  int64_t j = 0;
  for (; j + cols <= N; j += cols)
    avx512_tile<M, NV, false>(K, a, a_rs, a_ks, b + j, ldb, c + j, ldc, alpha, beta, static_cast<int>(cols),
                              bias ? bias + j : nullptr, relu);
  if (j < N) {
    const int n = static_cast<int>(N - j);
    avx512_rows_tail<M, NV>((n + 15) / 16, K, a, a_rs, a_ks, b + j, ldb, c + j, ldc, alpha, beta, n,
                            bias ? bias + j : nullptr, relu);
  }
}

using TileFn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*,
                        int64_t, float, float, int, const float*, bool);

// fns[m - 1][row_contig]: the instantiation for m live rows.
template <int NV, int... Ms>
struct Table {
  static constexpr TileFn fns[sizeof...(Ms)][2] = {{&avx512_tile<Ms + 1, NV, false>, &avx512_tile<Ms + 1, NV, true>}...};
};
template <int NV, int... Ms>
constexpr TileFn Table<NV, Ms...>::fns[sizeof...(Ms)][2];

template <int NV, int... Ms>
constexpr auto make_table(std::integer_sequence<int, Ms...>) {
  return Table<NV, Ms...>{};
}

}  // namespace

void gemm_avx512_14x32(int64_t kc, const float* a, int64_t a_rs, int64_t a_ks, const float* b,
                       int64_t ldb, float* c, int64_t ldc, float alpha, float beta, int m, int n,
                       const float* bias, bool relu) {
  using T = decltype(make_table<2>(std::make_integer_sequence<int, 14>{}));
  T::fns[m - 1][a_rs == 1](kc, a, a_rs, a_ks, b, ldb, c, ldc, alpha, beta, n, bias, relu);
}

void gemm_avx512_6x64(int64_t kc, const float* a, int64_t a_rs, int64_t a_ks, const float* b,
                      int64_t ldb, float* c, int64_t ldc, float alpha, float beta, int m, int n,
                      const float* bias, bool relu) {
  using T = decltype(make_table<4>(std::make_integer_sequence<int, 6>{}));
  T::fns[m - 1][a_rs == 1](kc, a, a_rs, a_ks, b, ldb, c, ldc, alpha, beta, n, bias, relu);
}

void gemm_avx512_24x16(int64_t kc, const float* a, int64_t a_rs, int64_t a_ks, const float* b,
                       int64_t ldb, float* c, int64_t ldc, float alpha, float beta, int m, int n,
                       const float* bias, bool relu) {
  using T = decltype(make_table<1>(std::make_integer_sequence<int, 24>{}));
  T::fns[m - 1][a_rs == 1](kc, a, a_rs, a_ks, b, ldb, c, ldc, alpha, beta, n, bias, relu);
}

void gemm_avx512_rows(int m, int64_t K, int64_t N, const float* a, int64_t a_rs, int64_t a_ks,
                      const float* b, int64_t ldb, float* c, int64_t ldc, float alpha, float beta,
                      const float* bias, bool relu) {
  switch (m) {
    case 1: avx512_rows<1>(K, N, a, a_rs, a_ks, b, ldb, c, ldc, alpha, beta, bias, relu); break;
    case 2: avx512_rows<2>(K, N, a, a_rs, a_ks, b, ldb, c, ldc, alpha, beta, bias, relu); break;
    case 3: avx512_rows<3>(K, N, a, a_rs, a_ks, b, ldb, c, ldc, alpha, beta, bias, relu); break;
    case 4: avx512_rows<4>(K, N, a, a_rs, a_ks, b, ldb, c, ldc, alpha, beta, bias, relu); break;
    case 5: avx512_rows<5>(K, N, a, a_rs, a_ks, b, ldb, c, ldc, alpha, beta, bias, relu); break;
    case 6: avx512_rows<6>(K, N, a, a_rs, a_ks, b, ldb, c, ldc, alpha, beta, bias, relu); break;
    case 7: avx512_rows<7>(K, N, a, a_rs, a_ks, b, ldb, c, ldc, alpha, beta, bias, relu); break;
    default: avx512_rows<8>(K, N, a, a_rs, a_ks, b, ldb, c, ldc, alpha, beta, bias, relu); break;
  }
}

}  // namespace gf

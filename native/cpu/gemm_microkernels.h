// Register-blocked GEMM micro-kernels, one per ISA, each in its own file compiled with its own
// -m flags. Internal to gemm.cc: call one only after cpu_features says the CPU can run it.
//
// Contract shared by all of them (MR x NR tile, kc >= 1):
//   a: packed MR x kc, k-major (a[k*MR + i]);  b: packed kc x NR, 64-byte aligned (b[k*NR + j])
//   C[i*ldc + j] = alpha * sum_k a[k*MR+i] * b[k*NR+j] + beta * C[i*ldc + j]
//   beta == 0: C is written without being read (NaN in C does not propagate).
// The AVX2 kernel computes full tiles only (the caller routes edges through a scratch tile);
// the AVX-512 kernels take the live rows m (1..MR) and columns n (1..NR) and handle edges
// themselves: rows past m of the packed A panel are not read, columns past n of C are neither
// read nor written (mask registers). They also apply the epilogue in registers as they store C:
// + bias[j] (bias points at the tile's first column; null: none), then relu (v < 0 ? 0 : v),
// the same operations in the same order as a separate pass over C (gemm.cc epilogue_tile, which the other kernels use).
#pragma once
#include <cstdint>

namespace gf {

void gemm_avx2_6x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                    float alpha, float beta);
// A tile of m x n (m <= MR, n <= NR) of C. A's element (row i, step k) is at
// a[i * a_rs + k * a_ks] (packed panels: a_rs = 1, a_ks = MR; unpacked A: its own strides);
// B's row k is at b + k * ldb (packed panels: ldb = NR). Unpacked B may end right after column
// n (partial tiles load it with masks).
void gemm_avx512_14x32(int64_t kc, const float* a, int64_t a_rs, int64_t a_ks, const float* b,
                       int64_t ldb, float* c, int64_t ldc, float alpha, float beta, int m, int n,
                       const float* bias, bool relu);
// The same for 32 < N <= 64: m <= 6, n <= 64.
void gemm_avx512_6x64(int64_t kc, const float* a, int64_t a_rs, int64_t a_ks, const float* b,
                      int64_t ldb, float* c, int64_t ldc, float alpha, float beta, int m, int n,
                      const float* bias, bool relu);
// The same for N <= 16: m <= 24, n <= 16.
void gemm_avx512_24x16(int64_t kc, const float* a, int64_t a_rs, int64_t a_ks, const float* b,
                       int64_t ldb, float* c, int64_t ldc, float alpha, float beta, int m, int n,
                       const float* bias, bool relu);

// C (m rows, 1 <= m <= 8) = alpha * A B + beta * C over all of K and N at once, B read in
// place (row k at b + k * ldb, not transposed); A's element (i, k) at a[i * a_rs + k * a_ks].
void gemm_avx512_rows(int m, int64_t K, int64_t N, const float* a, int64_t a_rs, int64_t a_ks,
                      const float* b, int64_t ldb, float* c, int64_t ldc, float alpha, float beta,
                      const float* bias, bool relu);

}  // namespace gf

// Register-blocked GEMM micro-kernels, one per ISA, each in its own file compiled with its own
// -m flags. Internal to gemm.cc: call one only after cpu_features says the CPU can run it.
//
// Contract shared by all of them (MR x NR tile, kc >= 1):
//   a: packed MR x kc, k-major (a[k*MR + i]);  b: packed kc x NR, 64-byte aligned (b[k*NR + j])
//   C[i*ldc + j] = alpha * sum_k a[k*MR+i] * b[k*NR+j] + beta * C[i*ldc + j]
//   beta == 0: C is written without being read (NaN in C does not propagate).
// Edge tiles (fewer than MR rows or NR columns) are handled by the caller via a scratch tile.
#pragma once
#include <cstdint>

namespace gf {

void gemm_avx2_6x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                    float alpha, float beta);
void gemm_avx512_6x32(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                      float alpha, float beta);

}  // namespace gf

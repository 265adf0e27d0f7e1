// Hand-written row-major SGEMM kernels and their launcher (contract in cuda/gemm.h).
// It is:
//  - gemm_tiled_kernel<BM, BN, ...>: a BM x BN block tile (128 x 128 with 256 threads, or
//    64 x 64 with 64 threads), K in steps of 8. Each warp owns a 64 x 32 piece of the tile and
//    each thread an 8 x 8 register block (two 4-row groups 32 apart times two 4-column groups
//    16 apart, so a warp's shared-memory reads are contiguous float4s with no bank conflicts).
//    Shared memory is double buffered: the next K step's global loads are issued into
//    registers before the current step's FMAs and stored to the other buffer after them, so
//    one barrier per K step suffices. Global loads are float4 where the operand's base and
//    leading dimension allow (VEC), scalar otherwise; elements outside M, N, K load as 0.
//    The epilogue (alpha, beta, bias, relu) is applied as C is stored, float4 where aligned.
//  - gemm_simple_kernel: 16 x 16 tiles, one output per thread, for products with M or N
//    below 32 (a 64-wide tile would leave most of its threads idle).
//  - gemm_scale_kernel: C = beta * C + bias, relu, for alpha == 0 or K == 0 (reads no A, B).
// Every kernel walks its tiles with a grid-stride loop (block-uniform, so barriers stay
// legal), so no size overflows a grid dimension; indices into A, B, C are 64-bit.
// It is not: TF32 or tensor-core code, a batched or strided-batch GEMM, or validation.
#include "cuda/gemm.h"

#include <atomic>
#include <cstdint>

#include "cuda/check.h"
#include "cuda/launch.h"

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace gemm_impl {
namespace {

struct GemmArgs {
  int64_t M, N, K;
  float alpha, beta;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float* C;
  int64_t ldc;
  const float* bias;  // null: none
  int relu;
  int vec_c;  // C and ldc allow float4 stores
  int64_t tiles_m, tiles_n;
};

constexpr int kBK = 8;   // K per shared-memory step
constexpr int kPad = 4;  // floats after each shared row: keeps float4 alignment, and makes the
                         // transposing stores of a K-contiguous tile conflict-free

// The epilogue for one element; c is read only when beta != 0.
__device__ __forceinline__ float finish(float acc, const GemmArgs& a, const float* c, int64_t n) {
  float v = a.alpha * acc;
  if (a.beta != 0.0f) v += a.beta * *c;
  if (a.bias) v += a.bias[n];
  if (a.relu) v = v < 0.0f ? 0.0f : v;
  return v;
}

// Four consecutive outputs of row `crow` from column n (columns >= N are skipped).
__device__ __forceinline__ void store4(float* crow, int64_t n, const float* acc, const GemmArgs& a) {
  if (a.vec_c && n + 4 <= a.N) {
    float4 c{0.0f, 0.0f, 0.0f, 0.0f};
    if (a.beta != 0.0f) c = *reinterpret_cast<const float4*>(crow + n);
    float4 o;
    o.x = finish(acc[0], a, &c.x, n + 0);
    o.y = finish(acc[1], a, &c.y, n + 1);
    o.z = finish(acc[2], a, &c.z, n + 2);
    o.w = finish(acc[3], a, &c.w, n + 3);
    *reinterpret_cast<float4*>(crow + n) = o;
    return;
  }
#pragma unroll
  for (int j = 0; j < 4; ++j)
    if (n + j < a.N) crow[n + j] = finish(acc[j], a, crow + n + j, n + j);
}

// One operand's BM x kBK (or BN x kBK) tile: global -> registers -> shared memory.
// ROWS is the tile's M (or N) extent. KCONT: the operand is contiguous along K in memory
// (A not transposed, B transposed); element (r, k) is src[r * ld + k], else src[k * ld + r].
// Shared layout is always s[k][r], so the compute loop reads rows of r for each k.
template <int ROWS, int THREADS, bool KCONT, bool VEC>
struct TileLoader {
  static constexpr int kQuads = ROWS * kBK / 4 / THREADS;  // float4s per thread
  static_assert(kQuads >= 1 && (ROWS * kBK) % (4 * THREADS) == 0, "tile not divisible");
  float4 r[kQuads];

  // r0, k0: the tile's first row and K index; R, K: the operand's extents.
  __device__ __forceinline__ void load(const float* src, int64_t ld, int64_t r0, int64_t k0,
                                       int64_t R, int64_t K, int tid) {
#pragma unroll
    for (int i = 0; i < kQuads; ++i) {
      const int q = tid + i * THREADS;
      float4 v{0.0f, 0.0f, 0.0f, 0.0f};
      if (KCONT) {  // two threads per row, 4 consecutive k each: 32-byte segments
        const int64_t gr = r0 + q / (kBK / 4), gk = k0 + (q % (kBK / 4)) * 4;
        if (gr < R) {
          const float* p = src + gr * ld + gk;
          if (VEC && gk + 4 <= K) {
            v = *reinterpret_cast<const float4*>(p);
          } else {
            if (gk + 0 < K) v.x = p[0];
            if (gk + 1 < K) v.y = p[1];
            if (gk + 2 < K) v.z = p[2];
            if (gk + 3 < K) v.w = p[3];
          }
        }
      } else {  // a warp reads 32 consecutive float4s of one k row
        const int64_t gk = k0 + q / (ROWS / 4), gr = r0 + (q % (ROWS / 4)) * 4;
        if (gk < K) {
          const float* p = src + gk * ld + gr;
          if (VEC && gr + 4 <= R) {
            v = *reinterpret_cast<const float4*>(p);
          } else {
            if (gr + 0 < R) v.x = p[0];
            if (gr + 1 < R) v.y = p[1];
            if (gr + 2 < R) v.z = p[2];
            if (gr + 3 < R) v.w = p[3];
          }
        }
      }
      r[i] = v;
    }
  }

  __device__ __forceinline__ void store(float (*s)[ROWS + kPad], int tid) const {
#pragma unroll
    for (int i = 0; i < kQuads; ++i) {
      const int q = tid + i * THREADS;
      if (KCONT) {  // transposed into s[k][r]
        const int row = q / (kBK / 4), kq = (q % (kBK / 4)) * 4;
        s[kq + 0][row] = r[i].x;
        s[kq + 1][row] = r[i].y;
        s[kq + 2][row] = r[i].z;
        s[kq + 3][row] = r[i].w;
      } else {
        const int k = q / (ROWS / 4), rq = (q % (ROWS / 4)) * 4;
        *reinterpret_cast<float4*>(&s[k][rq]) = r[i];
      }
    }
  }
};

template <int BM, int BN>
struct TileShape {
  static constexpr int kWarpsN = BN / 32;  // a warp covers 64 rows x 32 columns
  static constexpr int kWarps = (BM / 64) * kWarpsN;
  static constexpr int kThreads = kWarps * 32;
  static_assert(BM % 64 == 0 && BN % 32 == 0, "warp tile is 64 x 32");
};

template <int BM, int BN, bool TA, bool TB, bool VEC>
__global__ void __launch_bounds__(TileShape<BM, BN>::kThreads)
gemm_tiled_kernel(GemmArgs a) {
  constexpr int T = TileShape<BM, BN>::kThreads;
  __shared__ __align__(16) float As[2][kBK][BM + kPad];
  __shared__ __align__(16) float Bs[2][kBK][BN + kPad];

  const int tid = static_cast<int>(threadIdx.x);
  const int warp = tid / 32, lane = tid % 32;
  const int wm = warp / TileShape<BM, BN>::kWarpsN, wn = warp % TileShape<BM, BN>::kWarpsN;
  // Lanes as 8 (rows) x 4 (columns); thread rows row0 + {0..3, 32..35}, columns col0 +
  // {0..3, 16..19} of the tile.
  const int row0 = wm * 64 + (lane / 4) * 4;
  const int col0 = wn * 32 + (lane % 4) * 4;

  const int64_t tiles = a.tiles_m * a.tiles_n;
  const int64_t ktiles = (a.K + kBK - 1) / kBK;
  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    // Consecutive blocks walk 8 tile rows column by column, so the B panels they share stay
    // in L2 while A's 8 row panels are reused.
    constexpr int64_t kGroup = 8;
    const int64_t group_size = kGroup * a.tiles_n;
    const int64_t first_m = (tile / group_size) * kGroup;
    const int64_t gm = a.tiles_m - first_m < kGroup ? a.tiles_m - first_m : kGroup;
    const int64_t in_group = tile % group_size;
    const int64_t m0 = (first_m + in_group % gm) * BM;
    const int64_t n0 = (in_group / gm) * BN;

    TileLoader<BM, T, !TA, VEC> la;
    TileLoader<BN, T, TB, VEC> lb;
    la.load(a.A, a.lda, m0, 0, a.M, a.K, tid);
    lb.load(a.B, a.ldb, n0, 0, a.N, a.K, tid);
    la.store(As[0], tid);
    lb.store(Bs[0], tid);
    __syncthreads();

    float acc[8][8];
#pragma unroll
    for (int i = 0; i < 8; ++i)
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[i][j] = 0.0f;

    for (int64_t t = 0; t < ktiles; ++t) {
      const int cur = static_cast<int>(t & 1);
      const bool more = t + 1 < ktiles;
      if (more) {  // in flight while this step's FMAs run
        la.load(a.A, a.lda, m0, (t + 1) * kBK, a.M, a.K, tid);
        lb.load(a.B, a.ldb, n0, (t + 1) * kBK, a.N, a.K, tid);
      }
#pragma unroll
      for (int kk = 0; kk < kBK; ++kk) {
        const float4 a0 = *reinterpret_cast<const float4*>(&As[cur][kk][row0]);
        const float4 a1 = *reinterpret_cast<const float4*>(&As[cur][kk][row0 + 32]);
        const float4 b0 = *reinterpret_cast<const float4*>(&Bs[cur][kk][col0]);
        const float4 b1 = *reinterpret_cast<const float4*>(&Bs[cur][kk][col0 + 16]);
        const float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
        const float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
        for (int i = 0; i < 8; ++i)
#pragma unroll
          for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
      }
      // The other buffer was last read in step t - 1, before the barrier that ended it.
      if (more) {
        la.store(As[cur ^ 1], tid);
        lb.store(Bs[cur ^ 1], tid);
      }
      __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const int64_t m = m0 + row0 + (i / 4) * 32 + (i % 4);
      if (m < a.M) {
        float* crow = a.C + m * a.ldc;
        store4(crow, n0 + col0, &acc[i][0], a);
        store4(crow, n0 + col0 + 16, &acc[i][4], a);
      }
    }
  }
}

constexpr int kSimpleTile = 16;

// 16 x 16 outputs per block, one per thread; operands staged through shared memory with the
// load pattern chosen per transpose so that consecutive threads read consecutive addresses.
template <bool TA, bool TB>
__global__ void __launch_bounds__(kSimpleTile * kSimpleTile) gemm_simple_kernel(GemmArgs a) {
  __shared__ float As[kSimpleTile][kSimpleTile + 1];  // [m][k]
  __shared__ float Bs[kSimpleTile][kSimpleTile + 1];  // [k][n]
  const int tx = static_cast<int>(threadIdx.x) % kSimpleTile;
  const int ty = static_cast<int>(threadIdx.x) / kSimpleTile;
  const int64_t tiles = a.tiles_m * a.tiles_n;
  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const int64_t m0 = (tile / a.tiles_n) * kSimpleTile, n0 = (tile % a.tiles_n) * kSimpleTile;
    float acc = 0.0f;
    for (int64_t k0 = 0; k0 < a.K; k0 += kSimpleTile) {
      {  // A: element (m, k) is A[m * lda + k], or A[k * lda + m] when transposed
        const int mi = TA ? tx : ty, ki = TA ? ty : tx;
        const int64_t m = m0 + mi, k = k0 + ki;
        As[mi][ki] = (m < a.M && k < a.K) ? (TA ? a.A[k * a.lda + m] : a.A[m * a.lda + k]) : 0.0f;
      }
      {  // B: element (k, n) is B[k * ldb + n], or B[n * ldb + k] when transposed
        const int ki = TB ? tx : ty, ni = TB ? ty : tx;
        const int64_t k = k0 + ki, n = n0 + ni;
        Bs[ki][ni] = (k < a.K && n < a.N) ? (TB ? a.B[n * a.ldb + k] : a.B[k * a.ldb + n]) : 0.0f;
      }
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < kSimpleTile; ++kk) acc = fmaf(As[ty][kk], Bs[kk][tx], acc);
      __syncthreads();
    }
    const int64_t m = m0 + ty, n = n0 + tx;
    if (m < a.M && n < a.N) {
      float* c = a.C + m * a.ldc + n;
      *c = finish(acc, a, c, n);
    }
  }
}

// alpha == 0 or K == 0: C = beta * C (C not read when beta == 0), then bias and relu.
__global__ void gemm_scale_kernel(GemmArgs a) {
  for (int64_t m = blockIdx.y; m < a.M; m += gridDim.y) {
    float* crow = a.C + m * a.ldc;
    for (int64_t n = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; n < a.N;
         n += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      float v = a.beta != 0.0f ? a.beta * crow[n] : 0.0f;
      if (a.bias) v += a.bias[n];
      if (a.relu) v = v < 0.0f ? 0.0f : v;
      crow[n] = v;
    }
  }
}

using Kernel = void (*)(GemmArgs);

constexpr int64_t kMaxBlocks = int64_t(1) << 30;  // grid-stride beyond this (grid.x < 2^31)

int64_t blocks_for(int64_t tiles) { return tiles < kMaxBlocks ? tiles : kMaxBlocks; }

template <int BM, int BN, bool VEC>
Kernel pick_tiled(bool ta, bool tb) {
  if (ta) return tb ? gemm_tiled_kernel<BM, BN, true, true, VEC> : gemm_tiled_kernel<BM, BN, true, false, VEC>;
  return tb ? gemm_tiled_kernel<BM, BN, false, true, VEC> : gemm_tiled_kernel<BM, BN, false, false, VEC>;
}

template <int BM, int BN>
cudaError_t launch_tiled(GemmArgs a, bool ta, bool tb, bool vec, cudaStream_t stream) {
  a.tiles_m = (a.M + BM - 1) / BM;
  a.tiles_n = (a.N + BN - 1) / BN;
  const Kernel k = vec ? pick_tiled<BM, BN, true>(ta, tb) : pick_tiled<BM, BN, false>(ta, tb);
  const dim3 grid(static_cast<unsigned>(blocks_for(a.tiles_m * a.tiles_n)));
  const dim3 block(TileShape<BM, BN>::kThreads);
  GF_LAUNCH(k, grid, block, stream, a);
  return cudaGetLastError();
}

cudaError_t launch_simple(GemmArgs a, bool ta, bool tb, cudaStream_t stream) {
  a.tiles_m = (a.M + kSimpleTile - 1) / kSimpleTile;
  a.tiles_n = (a.N + kSimpleTile - 1) / kSimpleTile;
  const Kernel k = ta ? (tb ? gemm_simple_kernel<true, true> : gemm_simple_kernel<true, false>)
                      : (tb ? gemm_simple_kernel<false, true> : gemm_simple_kernel<false, false>);
  const dim3 grid(static_cast<unsigned>(blocks_for(a.tiles_m * a.tiles_n)));
  const dim3 block(kSimpleTile * kSimpleTile);
  GF_LAUNCH(k, grid, block, stream, a);
  return cudaGetLastError();
}

cudaError_t launch_scale(const GemmArgs& a, cudaStream_t stream) {
  const int64_t bx = (a.N + 255) / 256;
  const dim3 grid(static_cast<unsigned>(bx < 64 ? bx : 64),
                  static_cast<unsigned>(a.M < 65535 ? a.M : 65535));
  const Kernel k = gemm_scale_kernel;
  GF_LAUNCH(k, grid, dim3(256), stream, a);
  return cudaGetLastError();
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

std::atomic<int> g_path{static_cast<int>(GemmPath::Auto)};

}  // namespace
}  // namespace gemm_impl

void set_gemm_path(GemmPath p) {
  gemm_impl::g_path.store(static_cast<int>(p), std::memory_order_relaxed);
}
GemmPath gemm_path() { return static_cast<GemmPath>(gemm_impl::g_path.load(std::memory_order_relaxed)); }

const char* gemm_path_name(GemmPath p) {
  switch (p) {
    case GemmPath::Auto: return "auto";
    case GemmPath::Simple: return "simple16";
    case GemmPath::Tile64: return "tile64x64";
    case GemmPath::Tile128: return "tile128x128";
    case GemmPath::Scale: return "scale";
  }
  return "?";
}

GemmPath gemm_choose_path(int64_t M, int64_t N, int64_t K, float alpha, int multiprocessors) {
  if (K <= 0 || alpha == 0.0f) return GemmPath::Scale;
  const GemmPath forced = gemm_path();
  if (forced != GemmPath::Auto && forced != GemmPath::Scale) return forced;
  if (M < 32 || N < 32) return GemmPath::Simple;
  const int64_t tiles128 = ((M + 127) / 128) * ((N + 127) / 128);
  return tiles128 >= multiprocessors ? GemmPath::Tile128 : GemmPath::Tile64;
}

cudaError_t gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc, const GemmEpilogue<float>& epilogue, cudaStream_t stream) {
  using namespace gemm_impl;
  if (M <= 0 || N <= 0) return cudaSuccess;
  GemmArgs a{};
  a.M = M;
  a.N = N;
  a.K = K < 0 ? 0 : K;
  a.alpha = alpha;
  a.beta = beta;
  a.A = A;
  a.lda = lda;
  a.B = B;
  a.ldb = ldb;
  a.C = C;
  a.ldc = ldc;
  a.bias = epilogue.bias;
  a.relu = epilogue.act == GemmActivation::Relu ? 1 : 0;
  a.vec_c = aligned16(C) && ldc % 4 == 0 ? 1 : 0;

  int sms = 1;
  if (a.K > 0 && alpha != 0.0f && gemm_path() == GemmPath::Auto) {
    int dev = 0;
    GF_CUDA_RETURN_IF_ERROR(cudaGetDevice(&dev));
    GF_CUDA_RETURN_IF_ERROR(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  }
  const bool vec = aligned16(A) && aligned16(B) && lda % 4 == 0 && ldb % 4 == 0;
  switch (gemm_choose_path(M, N, a.K, alpha, sms)) {
    case GemmPath::Scale: return launch_scale(a, stream);
    case GemmPath::Simple: return launch_simple(a, transA, transB, stream);
    case GemmPath::Tile64: return launch_tiled<64, 64>(a, transA, transB, vec, stream);
    case GemmPath::Tile128:
    case GemmPath::Auto: break;
  }
  return launch_tiled<128, 128>(a, transA, transB, vec, stream);
}

cudaError_t gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc, cudaStream_t stream) {
  return gemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, GemmEpilogue<float>{},
              stream);
}

}  // namespace cuda
}  // namespace gf

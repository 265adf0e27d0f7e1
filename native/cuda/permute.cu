// Generalised transpose (contract in cuda/permute.h). The plan is cpu/permute.cc's: each
// output axis is expressed by its stride in x, size-1 axes are dropped and output axes that
// are also adjacent in x merged (so (N,H,W,C)->(N,C,H,W) becomes a batch of 2-D transposes);
// the plan travels to the kernels by value. Then one of three grid-stride kernels:
// - nothing left to reorder (identity, or one element): a flat word copy;
// - x's innermost axis stays innermost, or the plane it forms with the output's last axis is
//   thin (either side under 8): a gather, one thread per output element, the flat index
//   decomposed over the merged axes (32-bit arithmetic when the array has under 2^31
//   elements); writes are coalesced, and so are reads when the innermost axis stays;
// - otherwise 32x32 tiles of that plane through static shared memory (one padding column, no
//   bank conflicts), a 32x8 block per tile, so reads run along x's rows and writes along
//   out's; the other axes are decomposed once per tile.
// It is: 4-byte words moved bit for bit, 64-bit offsets. It is not: vectorised (float4), or
// tuned by measurement (the tile threshold of 8 is judgment: below it a warp's tile row is
// mostly idle lanes and the gather's strided reads are caught by L2).
#include "cuda/permute.h"

#include "cpu/permute.h"  // plan_box (host code, shared with the CPU)
#include "cuda/check.h"
#include "cuda/launch.h"

namespace gf {
namespace cuda {
// A named namespace around the anonymous one: test_cuda_emulated.cc includes every .cu
// into one translation unit, where two anonymous namespaces would collide.
namespace permute_impl {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 8192;  // enough to fill any current GPU; the loops cover more
constexpr int kTile = 32, kTileRows = 8;  // tile kernel: 32x32 tiles, 32x8 threads
constexpr int64_t kTileMin = 8;           // both sides of the plane at least this to tile

// Output axes (in output order) after dropping 1s and merging: size, stride in x, stride in out.
struct Plan {
  int nd;
  int64_t dim[kPermuteMaxRank];
  int64_t ist[kPermuteMaxRank];
  int64_t ost[kPermuteMaxRank];
};

Plan make_plan(const int64_t* shape, const int* perm, int rank) {
  int64_t in_stride[kPermuteMaxRank];
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; --i) {
    in_stride[i] = s;
    s *= shape[i];
  }
  Plan p{};
  for (int i = 0; i < rank; ++i) {
    const int64_t d = shape[perm[i]], st = in_stride[perm[i]];
    if (d == 1) continue;
    if (p.nd > 0 && p.ist[p.nd - 1] == st * d) {  // the previous output axis steps as one with this
      p.dim[p.nd - 1] *= d;
      p.ist[p.nd - 1] = st;
      continue;
    }
    p.dim[p.nd] = d;
    p.ist[p.nd] = st;
    ++p.nd;
  }
  s = 1;
  for (int i = p.nd - 1; i >= 0; --i) {
    p.ost[i] = s;
    s *= p.dim[i];
  }
  return p;
}

__global__ void copy_kernel(const uint32_t* x, uint32_t* out, int64_t total) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = x[i];
}

// out[i] = x[offset of i]; I: the index type (uint32_t when every offset fits, else uint64_t).
template <typename I>
__global__ void gather_kernel(const uint32_t* x, uint32_t* out, int64_t total, Plan p) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    I rem = static_cast<I>(i), off = 0;
    for (int d = p.nd - 1; d >= 0; --d) {
      const I n = static_cast<I>(p.dim[d]);
      off += (rem % n) * static_cast<I>(p.ist[d]);
      rem /= n;
    }
    out[i] = x[off];
  }
}

// The (q, last) plane: x's innermost axis is output axis q (< last, stride 1 in x), the
// output's last axis has stride sl in x. Unit u = (plane, q tile, last tile), last tile fastest.
__global__ void tile_kernel(const uint32_t* x, uint32_t* out, Plan p, int q, int64_t qtiles,
                            int64_t ltiles, int64_t units) {
  __shared__ uint32_t tile[kTile][kTile + 1];
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int last = p.nd - 1;
  const int64_t nq = p.dim[q], nl = p.dim[last], sl = p.ist[last], sq = p.ost[q];
  for (int64_t u = blockIdx.x; u < units; u += gridDim.x) {  // uniform over the block
    const int64_t lt = u % ltiles, qt = (u / ltiles) % qtiles, plane = u / (ltiles * qtiles);
    int64_t rem = plane, ioff = 0, ooff = 0;
    for (int d = last - 1; d >= 0; --d) {
      if (d == q) continue;
      const int64_t id = rem % p.dim[d];
      rem /= p.dim[d];
      ioff += id * p.ist[d];
      ooff += id * p.ost[d];
    }
    const int64_t i0 = qt * kTile, j0 = lt * kTile;
    const int64_t ir = i0 + tx;  // read: lanes along x's rows (axis q)
    for (int k = ty; k < kTile; k += kTileRows) {
      const int64_t j = j0 + k;
      if (ir < nq && j < nl) tile[k][tx] = x[ioff + ir + j * sl];
    }
    __syncthreads();
    const int64_t jw = j0 + tx;  // write: lanes along out's rows (the last axis)
    for (int k = ty; k < kTile; k += kTileRows) {
      const int64_t i = i0 + k;
      if (i < nq && jw < nl) out[ooff + i * sq + jw] = tile[tx][k];
    }
    __syncthreads();  // the tile is read before the next unit overwrites it
  }
}

__global__ void fill_kernel(uint32_t* dst, uint32_t word, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[i] = word;
}

// One thread per box element (grid-stride), the flat index decomposed over the box's axes:
// writes along dst's rows are coalesced, and so are reads (the last axis has stride 1 in both).
__global__ void box_kernel(const uint32_t* src, uint32_t* dst, int64_t total, BoxPlan b) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t rem = i, so = b.src_base, doff = b.dst_base;
    for (int d = b.nd - 1; d >= 0; --d) {
      const int64_t id = rem % b.size[d];
      rem /= b.size[d];
      so += id * b.src_stride[d];
      doff += id * b.dst_stride[d];
    }
    dst[doff] = src[so];
  }
}

}  // namespace
}  // namespace permute_impl

cudaError_t copy_box(const void* src, const int64_t* src_shape, const int64_t* src_start, void* dst,
                     const int64_t* dst_shape, const int64_t* dst_start, const int64_t* size,
                     int rank, int elem_bytes, const uint32_t* fill_word, cudaStream_t stream) {
  using namespace permute_impl;
  if (rank < 0 || rank > kPermuteMaxRank || elem_bytes != 4) return cudaErrorInvalidValue;
  if (fill_word != nullptr) {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dst_shape[i];
    if (n > 0) {
      using Fill = void (*)(uint32_t*, uint32_t, int64_t);
      const Fill f = fill_kernel;
      GF_LAUNCH(f, dim3(grid_blocks(n, kThreads, kMaxBlocks)), dim3(kThreads), stream, static_cast<uint32_t*>(dst),
                *fill_word, n);
      GF_CUDA_RETURN_IF_ERROR(cudaGetLastError());
    }
  }
  int64_t total = 1;
  for (int i = 0; i < rank; ++i) total *= size[i];
  if (total == 0) return cudaSuccess;
  const BoxPlan b = plan_box(src_shape, src_start, dst_shape, dst_start, size, rank);
  using Kernel = void (*)(const uint32_t*, uint32_t*, int64_t, BoxPlan);
  const Kernel k = box_kernel;
  GF_LAUNCH(k, dim3(grid_blocks(total, kThreads, kMaxBlocks)), dim3(kThreads), stream,
            static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst), total, b);
  return cudaGetLastError();
}

cudaError_t permute(const void* x, const int64_t* shape, const int* perm, int rank, int elem_bytes,
                    void* out, cudaStream_t stream) {
  using namespace permute_impl;
  if (rank < 0 || rank > kPermuteMaxRank || elem_bytes != 4) return cudaErrorInvalidValue;
  bool seen[kPermuteMaxRank] = {};
  int64_t total = 1;
  for (int i = 0; i < rank; ++i) {
    const int a = perm[i];
    if (a < 0 || a >= rank || seen[a] || shape[i] < 0) return cudaErrorInvalidValue;
    seen[a] = true;
    total *= shape[i];
  }
  if (total == 0) return cudaSuccess;
  if (out == x) return cudaErrorInvalidValue;
  const uint32_t* xs = static_cast<const uint32_t*>(x);
  uint32_t* os = static_cast<uint32_t*>(out);
  const Plan p = make_plan(shape, perm, rank);
  const int last = p.nd - 1;
  if (p.nd <= 1) {
    using Kernel = void (*)(const uint32_t*, uint32_t*, int64_t);
    const Kernel k = copy_kernel;
    GF_LAUNCH(k, dim3(grid_blocks(total, kThreads, kMaxBlocks)), dim3(kThreads), stream, xs, os, total);
    return cudaGetLastError();
  }
  int q = 0;
  while (q < last && p.ist[q] != 1) ++q;  // x's innermost axis in the output (last if it stays)
  if (q == last || p.dim[q] < kTileMin || p.dim[last] < kTileMin) {
    using Kernel = void (*)(const uint32_t*, uint32_t*, int64_t, Plan);
    const Kernel k = total <= INT32_MAX ? gather_kernel<uint32_t> : gather_kernel<uint64_t>;
    GF_LAUNCH(k, dim3(grid_blocks(total, kThreads, kMaxBlocks)), dim3(kThreads), stream, xs, os, total, p);
    return cudaGetLastError();
  }
  const int64_t qtiles = (p.dim[q] + kTile - 1) / kTile, ltiles = (p.dim[last] + kTile - 1) / kTile;
  const int64_t units = total / (p.dim[q] * p.dim[last]) * qtiles * ltiles;
  using Kernel = void (*)(const uint32_t*, uint32_t*, Plan, int, int64_t, int64_t, int64_t);
  const Kernel k = tile_kernel;
  GF_LAUNCH(k, dim3(grid_blocks(units, 1, kMaxBlocks)), dim3(kTile, kTileRows), stream, xs, os, p, q,
            qtiles, ltiles, units);
  return cudaGetLastError();
}

}  // namespace cuda
}  // namespace gf

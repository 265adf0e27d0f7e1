// The float reductions that several native/cuda kernel files share, across a warp or a block.
// It is: warp_max / warp_sum (a shuffle butterfly over the 32 lanes; every lane gets the
// result), block_reduce (warp results through shared memory, combined either by one more
// butterfly or in warp order, so each caller keeps its own summation order), and sum_lanes
// (the lane-order double sum of a 32-column x LANES-row block, the column-sum kernels' last
// step). Every thread of the warp (block) must call them, as for the shuffles and barriers
// inside. It is not: a general reduction over other types or ops (cuda/reduce.cu folds its
// functors itself), or a cross-block reduction (callers write partials and add them later).
#pragma once

#ifdef GF_CUDA_EMULATE
#include "cuda/emulate.h"
#endif

#include <math.h>

namespace gf {
namespace cuda {

constexpr unsigned kFullWarpMask = 0xffffffffu;

// fmaxf ignores a NaN operand, as the CPU's max does; a NaN in a softmax row then reaches the
// sum through exp(NaN - max) and makes the row NaN, like the CPU.
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullWarpMask, v, o));
  return v;
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFullWarpMask, v, o);
  return v;
}

template <bool MAX>
__device__ __forceinline__ float warp_reduce(float v) {
  return MAX ? warp_max(v) : warp_sum(v);
}

// The max (MAX) or sum of v over a block of THREADS threads (1-D, a multiple of 32); every
// thread gets the result. scratch holds THREADS / 32 floats. The warps' results are combined
// by a butterfly over them (IN_WARP_ORDER false) or added by each thread in warp order (true).
// Ends with a barrier, so scratch may be reused at once.
template <bool MAX, int THREADS, bool IN_WARP_ORDER>
__device__ __forceinline__ float block_reduce(float v, float* scratch) {
  static_assert(THREADS % 32 == 0 && THREADS <= 1024, "whole warps, at most 32 of them");
  constexpr int kWarps = THREADS / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32, warp = static_cast<int>(threadIdx.x) / 32;
  v = warp_reduce<MAX>(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (IN_WARP_ORDER) {
    v = scratch[0];
    for (int w = 1; w < kWarps; ++w) v = MAX ? fmaxf(v, scratch[w]) : v + scratch[w];
  } else {
    v = lane < kWarps ? scratch[lane] : (MAX ? -INFINITY : 0.0f);
    v = warp_reduce<MAX>(v);
  }
  __syncthreads();
  return v;
}

// For a (COLS, LANES) block: the sum over threadIdx.y of acc, added in lane (y) order, for the
// threads with threadIdx.y == 0 (others get 0). red is the block's shared [LANES][COLS]; ends
// with a barrier, so red may be reused at once.
template <int LANES, int COLS>
__device__ __forceinline__ double sum_lanes(double (&red)[LANES][COLS], double acc) {
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  red[ty][tx] = acc;
  __syncthreads();
  double t = 0.0;
  if (ty == 0) {
    t = red[0][tx];
    for (int l = 1; l < LANES; ++l) t += red[l][tx];
  }
  __syncthreads();
  return t;
}

}  // namespace cuda
}  // namespace gf

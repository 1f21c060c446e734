// Row-parallel reductions for the softmax and loss kernels: each row of a
// (rows, n) array is handled by a group of threads, a warp when rows are
// short and a whole block when they are long, which reduce their partial
// results in a fixed order (the same result on every run).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <type_traits>

#include "ranvier_cuda/launch.cuh"

namespace ranvier::cuda {

constexpr int kRowBlock = 256;              // threads per block of the row kernels
constexpr std::int64_t kWarpRowMax = 1024;  // rows up to this long get a warp each

struct SumOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a + b;
  }
};

// fmaxf ignores NaN: a NaN reaches the result through the exponentials instead.
struct MaxOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

// The threads of a block that share one row: kGroup = 32 (a warp, kRowBlock /
// 32 rows per block) or kGroup = kRowBlock (the block). Rows are walked with
// a grid-stride loop: for (r = first_row(); r < rows; r += row_step()); every
// thread of a group takes the same branches, so a block-wide group may
// synchronise inside the loop.
template <int kGroup>
struct RowGroup {
  static_assert(kGroup == 32 || kGroup == kRowBlock, "a warp or the whole block");
  static constexpr int kRowsPerBlock = kRowBlock / kGroup;

  __device__ static int lane() { return static_cast<int>(threadIdx.x) % kGroup; }
  __device__ static std::int64_t first_row() {
    return static_cast<std::int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kGroup;
  }
  __device__ static std::int64_t row_step() { return static_cast<std::int64_t>(gridDim.x) * kRowsPerBlock; }

  // op over the group's values; every thread of the group gets the result.
  // The xor butterfly gives every lane the same bits; warps' results are then
  // combined in warp order.
  template <class T, class Op>
  __device__ static T reduce(T v, Op op) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
    if constexpr (kGroup == 32) {
      return v;
    } else {
      __shared__ T partial[kGroup / 32];
      if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
      __syncthreads();
      T total = partial[0];
#pragma unroll
      for (int w = 1; w < kGroup / 32; ++w) total = op(total, partial[w]);
      __syncthreads();  // partial is free again for the next reduction
      return total;
    }
  }
};

// Launches a row kernel over `rows` rows of length n:
// launch(std::integral_constant<int, kGroup>, blocks) enqueues it with
// kRowBlock threads per block and returns its error.
template <class Launch>
cudaError_t launch_row_groups(std::int64_t rows, std::int64_t n, Launch launch) {
  if (rows == 0) return cudaSuccess;
  if (n <= kWarpRowMax) return launch(std::integral_constant<int, 32>{}, grid_for(rows, kRowBlock / 32));
  return launch(std::integral_constant<int, kRowBlock>{}, grid_for(rows, 1));
}

}  // namespace ranvier::cuda

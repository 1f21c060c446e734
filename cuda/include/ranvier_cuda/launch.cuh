// Launch shapes shared by the conv, pool, softmax and loss kernels: bounded
// grids walked with grid-stride loops, and the choice of index type.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace ranvier::cuda {

constexpr int kBlock = 256;                   // threads per block
constexpr std::int64_t kMaxBlocks = 1 << 16;  // grid-stride loops cover the rest

// Blocks for `count` items, `per_block` to a block, at most kMaxBlocks.
inline unsigned grid_for(std::int64_t count, std::int64_t per_block = kBlock) {
  const std::int64_t blocks = (count + per_block - 1) / per_block;
  return static_cast<unsigned>(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

// Grid-stride loop bounds in index type I: start at grid_start, step by grid_stride.
template <class I>
__device__ __forceinline__ I grid_start() {
  return static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
}
template <class I>
__device__ __forceinline__ I grid_stride() {
  return static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
}

// 32-bit index arithmetic (several times cheaper than 64-bit division) is
// used when every index and intermediate of a problem stays below this bound;
// the margin keeps e + grid_stride() from overflowing.
constexpr std::int64_t kInt32Bound = std::int64_t{1} << 30;

// Calls f(I{}) with I = std::int32_t when `small`, else std::int64_t.
template <class F>
cudaError_t with_index_type(bool small, F f) {
  return small ? f(std::int32_t{}) : f(std::int64_t{});
}

// floor(a / b) for b > 0 and any a.
template <class I>
__device__ __forceinline__ I floor_div(I a, I b) {
  return a >= 0 ? a / b : -((b - 1 - a) / b);
}

}  // namespace ranvier::cuda

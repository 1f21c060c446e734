// Embedding on the GPU. The forward copies rows (one thread per element of
// y); the backward adds rows, each block owning a range of table rows so that
// repeated ids never race (the split of cpp/kernels/embedding.cpp).
#include "ranvier_cuda/embedding.h"
#include "ranvier_cuda/launch.cuh"

namespace ranvier::cuda {

namespace {

constexpr int kWarps = kBlock / 32;
// Blocks of the backward: each reads all ids, so more blocks cost more reads;
// about four per SM of an A100 or H100 keeps every SM busy.
constexpr std::int64_t kMaxOwners = 512;

// ids (n,) -> *first_bad = min(*first_bad, every i with ids[i] outside [0, v)).
__global__ void find_bad_id_kernel(unsigned long long* first_bad, const std::int64_t* ids, std::int64_t n,
                                   std::int64_t v) {
  for (std::int64_t i = grid_start<std::int64_t>(); i < n; i += grid_stride<std::int64_t>()) {
    if (ids[i] < 0 || ids[i] >= v) atomicMin(first_bad, static_cast<unsigned long long>(i));
  }
}

// ids (n,), table (v, d) -> y (n, d)
__global__ void embedding_kernel(float* y, const std::int64_t* ids, const float* table, std::int64_t n,
                                 std::int64_t d) {
  const std::int64_t size = n * d;
  for (std::int64_t e = grid_start<std::int64_t>(); e < size; e += grid_stride<std::int64_t>())
    y[e] = table[ids[e / d] * d + e % d];
}

// dtable (v, d), zeroed, += the rows of dy (n, d) at ids (n,). Block b owns
// rows [v*b/owners, v*(b+1)/owners). It reads the ids kBlock at a time,
// lists the positions of those it owns in order (a ballot per warp, then the
// warps in order), and adds their dy rows: thread x takes columns x,
// x + kBlock, ..., keeping a row's running sum in a register while
// consecutive matches hit the same row. Every dtable element is thus summed
// by one thread, in the order of ids, starting from 0.
__global__ void __launch_bounds__(kBlock)
    embedding_backward_kernel(float* dtable, const float* dy, const std::int64_t* ids, std::int64_t n, std::int64_t v,
                              std::int64_t d, std::int64_t owners) {
  __shared__ std::int64_t match_index[kBlock];
  __shared__ std::int64_t match_row[kBlock];
  __shared__ int warp_matches[kWarps];
  const std::int64_t r0 = v * blockIdx.x / owners, r1 = v * (blockIdx.x + 1) / owners;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (std::int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const std::int64_t i = i0 + threadIdx.x;
    const std::int64_t r = i < n ? ids[i] : -1;
    const bool mine = r >= r0 && r < r1;
    const unsigned ballot = __ballot_sync(0xffffffffu, mine);
    if (lane == 0) warp_matches[warp] = __popc(ballot);
    __syncthreads();
    int before = 0, count = 0;
    for (int w = 0; w < kWarps; ++w) {
      if (w < warp) before += warp_matches[w];
      count += warp_matches[w];
    }
    if (mine) {
      const int slot = before + __popc(ballot & ((1u << lane) - 1u));
      match_index[slot] = i;
      match_row[slot] = r;
    }
    __syncthreads();
    for (std::int64_t j = threadIdx.x; j < d && count > 0; j += kBlock) {
      std::int64_t row = match_row[0];
      float acc = dtable[row * d + j];
      for (int m = 0; m < count; ++m) {
        if (match_row[m] != row) {
          dtable[row * d + j] = acc;
          row = match_row[m];
          acc = dtable[row * d + j];
        }
        acc += dy[match_index[m] * d + j];
      }
      dtable[row * d + j] = acc;
    }
    __syncthreads();  // the lists are read before the next ids overwrite them
  }
}

}  // namespace

cudaError_t first_id_out_of_range(unsigned long long* first_bad, const std::int64_t* ids, std::int64_t n,
                                  std::int64_t v, cudaStream_t stream) {
  cudaError_t err = cudaMemsetAsync(first_bad, 0xff, sizeof(unsigned long long), stream);
  if (err != cudaSuccess || n == 0) return err;
  find_bad_id_kernel<<<grid_for(n), kBlock, 0, stream>>>(first_bad, ids, n, v);
  return cudaGetLastError();
}

cudaError_t embedding(float* y, const std::int64_t* ids, const float* table, std::int64_t n, std::int64_t,
                      std::int64_t d, cudaStream_t stream) {
  if (n == 0 || d == 0) return cudaSuccess;
  embedding_kernel<<<grid_for(n * d), kBlock, 0, stream>>>(y, ids, table, n, d);
  return cudaGetLastError();
}

cudaError_t embedding_backward(float* dtable, const float* dy, const std::int64_t* ids, std::int64_t n, std::int64_t v,
                               std::int64_t d, cudaStream_t stream) {
  if (v == 0 || d == 0) return cudaSuccess;
  cudaError_t err = cudaMemsetAsync(dtable, 0, static_cast<std::size_t>(v * d) * sizeof(float), stream);
  if (err != cudaSuccess || n == 0) return err;
  const std::int64_t owners = v < kMaxOwners ? v : kMaxOwners;
  embedding_backward_kernel<<<static_cast<unsigned>(owners), kBlock, 0, stream>>>(dtable, dy, ids, n, v, d, owners);
  return cudaGetLastError();
}

}  // namespace ranvier::cuda

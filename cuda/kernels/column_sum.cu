// Column sums (the bias gradient of a dense layer).
#include "ranvier_cuda/reduce.h"

namespace ranvier::cuda {

namespace {

constexpr int kCols = 32;      // columns per block: a warp reads 32 neighbouring floats of a row
constexpr int kRowLanes = 32;  // threads per column, each summing every kRowLanes-th row

// x (rows,cols) -> sums (cols,). Block (kCols, kRowLanes); grid x = column tiles.
// Each thread sums a strided subset of one column's rows, then the
// kRowLanes partial sums of each column are added through shared memory, in a
// fixed order, so the result does not vary from run to run.
__global__ void column_sum_kernel(float* sums, const float* x, std::int64_t rows, std::int64_t cols) {
  __shared__ float partial[kRowLanes][kCols];
  const std::int64_t col = static_cast<std::int64_t>(blockIdx.x) * kCols + threadIdx.x;
  float s = 0.0f;
  if (col < cols) {
#pragma unroll 4
    for (std::int64_t r = threadIdx.y; r < rows; r += kRowLanes) s += x[r * cols + col];
  }
  partial[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && col < cols) {
    float total = 0.0f;
    for (int lane = 0; lane < kRowLanes; ++lane) total += partial[lane][threadIdx.x];
    sums[col] = total;
  }
}

}  // namespace

cudaError_t column_sum(float* sums, const float* x, std::int64_t rows, std::int64_t cols, cudaStream_t stream) {
  if (cols == 0) return cudaSuccess;
  const std::int64_t blocks = (cols + kCols - 1) / kCols;
  if (blocks > 0x7fffffff) return cudaErrorInvalidConfiguration;
  column_sum_kernel<<<static_cast<unsigned>(blocks), dim3(kCols, kRowLanes), 0, stream>>>(sums, x, rows, cols);
  return cudaGetLastError();
}

}  // namespace ranvier::cuda

// Layer norm: one warp per row (lanes take every 32nd feature, then a
// butterfly sum); the backward's column sums (dgamma, dbeta) go through
// partial sums over fixed blocks of rows, added in block order.
#include "ranvier/index_math.h"
#include "ranvier_cuda/launch.cuh"
#include "ranvier_cuda/norm.h"

namespace ranvier::cuda {

namespace {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;
constexpr int kThreads = kWarp * kWarpsPerBlock;
// Column sums: blocks of kCols features x kLanes row lanes, over row chunks
// of at least kMinChunkRows rows, at most kMaxChunks of them. The chunks
// depend on the number of rows only, so the sums do not vary between runs or GPUs.
constexpr int kCols = 32;
constexpr int kLanes = 8;
constexpr std::int64_t kMinChunkRows = 32;
constexpr std::int64_t kMaxChunks = 256;

std::int64_t row_chunks(std::int64_t rows) {
  const std::int64_t chunks = ceil_div(rows, kMinChunkRows);
  return chunks < kMaxChunks ? chunks : kMaxChunks;
}

unsigned row_blocks(std::int64_t rows) { return grid_for(rows, kWarpsPerBlock); }

// Sum over the 32 lanes of a warp; every lane gets the same result.
__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset /= 2) x += __shfl_xor_sync(0xffffffffu, x, offset);
  return x;
}

__device__ __forceinline__ std::int64_t first_warp_row() {
  return (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
}
__device__ __forceinline__ std::int64_t warp_stride() {
  return static_cast<std::int64_t>(gridDim.x) * blockDim.x / kWarp;
}

// x (rows, d), gamma, beta (d,) -> y (rows, d), mean, rstd (rows,) or null.
// Deviations are taken from the row's first value, which is exact for
// values in the same binade (Sterbenz), so a mean of 1e4 costs no digits.
__global__ void layer_norm_kernel(float* y, float* mean, float* rstd, const float* x, const float* gamma,
                                  const float* beta, std::int64_t rows, std::int64_t d, float eps) {
  const int lane = threadIdx.x % kWarp;
  const float inv_d = 1.0f / static_cast<float>(d);
  for (std::int64_t row = first_warp_row(); row < rows; row += warp_stride()) {
    const float* xr = x + row * d;
    const float shift = xr[0];
    float sum = 0.0f;
    for (std::int64_t j = lane; j < d; j += kWarp) sum += xr[j] - shift;
    const float mu = warp_sum(sum) * inv_d;  // the mean of x - shift
    float m2 = 0.0f;
    for (std::int64_t j = lane; j < d; j += kWarp) {
      const float dev = xr[j] - shift - mu;
      m2 = fmaf(dev, dev, m2);
    }
    const float r = 1.0f / sqrtf(warp_sum(m2) * inv_d + eps);
    float* yr = y + row * d;
    for (std::int64_t j = lane; j < d; j += kWarp) yr[j] = fmaf((xr[j] - shift - mu) * r, gamma[j], beta[j]);
    if (lane == 0) {
      if (mean != nullptr) mean[row] = shift + mu;
      if (rstd != nullptr) rstd[row] = r;
    }
  }
}

// dy, x (rows, d), gamma (d,), mean, rstd (rows,) -> dx (rows, d). With
// xhat = (x - mean) rstd and g = dy gamma:
//   dx = rstd (g - mean(g) - xhat mean(g xhat))
__global__ void layer_norm_dx_kernel(float* dx, const float* dy, const float* x, const float* gamma, const float* mean,
                                     const float* rstd, std::int64_t rows, std::int64_t d) {
  const int lane = threadIdx.x % kWarp;
  const float inv_d = 1.0f / static_cast<float>(d);
  for (std::int64_t row = first_warp_row(); row < rows; row += warp_stride()) {
    const float* xr = x + row * d;
    const float* dyr = dy + row * d;
    const float m = mean[row], r = rstd[row];
    float sum_g = 0.0f, sum_gx = 0.0f;
    for (std::int64_t j = lane; j < d; j += kWarp) {
      const float g = dyr[j] * gamma[j];
      sum_g += g;
      sum_gx = fmaf(g, (xr[j] - m) * r, sum_gx);
    }
    const float a = warp_sum(sum_g) * inv_d, b = warp_sum(sum_gx) * inv_d;
    float* dxr = dx + row * d;
    for (std::int64_t j = lane; j < d; j += kWarp) {
      const float xhat = (xr[j] - m) * r;
      dxr[j] = fmaf(-xhat, b, dyr[j] * gamma[j] - a) * r;
    }
  }
}

// partial (chunks, 2, d): the sums of dy * xhat and of dy over the rows of
// each chunk. Block (kCols, kLanes); grid (column tiles, chunks). Lane y sums
// rows r0 + y, r0 + y + kLanes, ...; the lanes are then added in order.
__global__ void column_partials_kernel(float* partial, const float* dy, const float* x, const float* mean,
                                       const float* rstd, std::int64_t rows, std::int64_t d, std::int64_t chunks) {
  __shared__ float lane_g[kLanes][kCols];
  __shared__ float lane_b[kLanes][kCols];
  const std::int64_t col = static_cast<std::int64_t>(blockIdx.x) * kCols + threadIdx.x;
  const std::int64_t chunk = blockIdx.y;
  const std::int64_t r0 = rows * chunk / chunks, r1 = rows * (chunk + 1) / chunks;
  float g = 0.0f, b = 0.0f;
  if (col < d) {
    for (std::int64_t r = r0 + threadIdx.y; r < r1; r += kLanes) {
      const float dyv = dy[r * d + col];
      g = fmaf(dyv, (x[r * d + col] - mean[r]) * rstd[r], g);
      b += dyv;
    }
  }
  lane_g[threadIdx.y][threadIdx.x] = g;
  lane_b[threadIdx.y][threadIdx.x] = b;
  __syncthreads();
  if (threadIdx.y == 0 && col < d) {
    float total_g = 0.0f, total_b = 0.0f;
    for (int lane = 0; lane < kLanes; ++lane) {
      total_g += lane_g[lane][threadIdx.x];
      total_b += lane_b[lane][threadIdx.x];
    }
    partial[chunk * 2 * d + col] = total_g;
    partial[chunk * 2 * d + d + col] = total_b;
  }
}

// partial (chunks, 2, d) -> dgamma, dbeta (d,), adding the chunks in order
// (zeros when there are none).
__global__ void sum_partials_kernel(float* dgamma, float* dbeta, const float* partial, std::int64_t d,
                                    std::int64_t chunks) {
  for (std::int64_t col = grid_start<std::int64_t>(); col < d; col += grid_stride<std::int64_t>()) {
    float g = 0.0f, b = 0.0f;
    for (std::int64_t c = 0; c < chunks; ++c) {
      g += partial[c * 2 * d + col];
      b += partial[c * 2 * d + d + col];
    }
    dgamma[col] = g;
    dbeta[col] = b;
  }
}

}  // namespace

cudaError_t layer_norm(float* y, float* mean, float* rstd, const float* x, const float* gamma, const float* beta,
                       std::int64_t rows, std::int64_t d, float eps, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  layer_norm_kernel<<<row_blocks(rows), kThreads, 0, stream>>>(y, mean, rstd, x, gamma, beta, rows, d, eps);
  return cudaGetLastError();
}

std::int64_t layer_norm_backward_scratch(std::int64_t rows, std::int64_t d) { return row_chunks(rows) * 2 * d; }

cudaError_t layer_norm_backward(float* dx, float* dgamma, float* dbeta, float* scratch, const float* dy, const float* x,
                                const float* gamma, const float* mean, const float* rstd, std::int64_t rows,
                                std::int64_t d, cudaStream_t stream) {
  if (d == 0) return cudaSuccess;
  const std::int64_t chunks = row_chunks(rows);
  if (rows > 0) {
    layer_norm_dx_kernel<<<row_blocks(rows), kThreads, 0, stream>>>(dx, dy, x, gamma, mean, rstd, rows, d);
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) return err;
    const std::int64_t col_tiles = ceil_div(d, kCols);
    if (col_tiles > 0x7fffffff) return cudaErrorInvalidConfiguration;
    const dim3 grid(static_cast<unsigned>(col_tiles), static_cast<unsigned>(chunks));
    column_partials_kernel<<<grid, dim3(kCols, kLanes), 0, stream>>>(scratch, dy, x, mean, rstd, rows, d, chunks);
    err = cudaGetLastError();
    if (err != cudaSuccess) return err;
  }
  sum_partials_kernel<<<grid_for(d, kThreads), kThreads, 0, stream>>>(dgamma, dbeta, scratch, d, chunks);
  return cudaGetLastError();
}

}  // namespace ranvier::cuda

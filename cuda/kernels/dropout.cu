// Inverted dropout: one thread per pair of elements, since one splitmix64
// output serves two (the hash of cpp/kernels/dropout_simd.cpp, bit for bit).
#include "ranvier_cuda/dropout.h"
#include "ranvier_cuda/launch.cuh"

namespace ranvier::cuda {

namespace {

constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ull;

// splitmix64's output function (Stafford's mix13).
__host__ __device__ std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

float keep_scale(double rate) { return static_cast<float>(1.0 / (1.0 - rate)); }

// x (n,) -> y (n,), mask (n,). Pair p draws z = mix64(key + golden * p):
// element 2p takes its low 32 bits, element 2p + 1 its high ones.
__global__ void dropout_kernel(float* y, std::uint8_t* mask, const float* x, std::int64_t n, std::uint64_t key,
                               std::uint32_t threshold, float scale) {
  const std::int64_t pairs = (n + 1) / 2;
  for (std::int64_t p = grid_start<std::int64_t>(); p < pairs; p += grid_stride<std::int64_t>()) {
    const std::uint64_t z = mix64(key + kGolden * static_cast<std::uint64_t>(p));
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const std::int64_t i = 2 * p + half;
      if (i >= n) break;
      const auto draw = static_cast<std::uint32_t>(half == 0 ? z : z >> 32);
      const std::uint8_t keep = draw >= threshold;
      mask[i] = keep;
      // A product, not a select, so NaN and inf in x propagate as in x * mask * scale.
      y[i] = x[i] * (static_cast<float>(keep) * scale);
    }
  }
}

// dy (n,), mask (n,) -> dx (n,)
__global__ void dropout_backward_kernel(float* dx, const float* dy, const std::uint8_t* mask, std::int64_t n,
                                        float scale) {
  for (std::int64_t i = grid_start<std::int64_t>(); i < n; i += grid_stride<std::int64_t>())
    dx[i] = dy[i] * (static_cast<float>(mask[i]) * scale);
}

}  // namespace

cudaError_t dropout(float* y, std::uint8_t* mask, const float* x, std::int64_t n, double rate, std::uint64_t seed,
                    cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  const auto threshold = static_cast<std::uint32_t>(rate * 4294967296.0);
  dropout_kernel<<<grid_for((n + 1) / 2), kBlock, 0, stream>>>(y, mask, x, n, mix64(seed + kGolden), threshold,
                                                               keep_scale(rate));
  return cudaGetLastError();
}

cudaError_t dropout_backward(float* dx, const float* dy, const std::uint8_t* mask, std::int64_t n, double rate,
                             cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  dropout_backward_kernel<<<grid_for(n), kBlock, 0, stream>>>(dx, dy, mask, n, keep_scale(rate));
  return cudaGetLastError();
}

}  // namespace ranvier::cuda

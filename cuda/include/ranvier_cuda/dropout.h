// Inverted dropout on the GPU with the counter-based mask of ranvier/dropout.h:
// the same hash of (seed, element index), so the masks of the CPU and GPU
// kernels are equal bit for bit.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace ranvier::cuda {

// x (n,) -> y (n,), mask (n,) uint8 in {0, 1}: y = x * mask * scale, with
// scale = float(1 / (1 - rate)), rate in [0, 1). See ranvier/dropout.h for the mask.
cudaError_t dropout(float* y, std::uint8_t* mask, const float* x, std::int64_t n, double rate, std::uint64_t seed,
                    cudaStream_t stream);

// dy (n,), mask (n,) -> dx (n,) = dy * mask * scale. dx may alias dy.
cudaError_t dropout_backward(float* dx, const float* dy, const std::uint8_t* mask, std::int64_t n, double rate,
                             cudaStream_t stream);

}  // namespace ranvier::cuda

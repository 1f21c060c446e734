// Reductions on the GPU.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace ranvier::cuda {

// x (rows,cols) contiguous -> sums (cols,): sums[j] = sum over r of x[r, j].
cudaError_t column_sum(float* sums, const float* x, std::int64_t rows, std::int64_t cols, cudaStream_t stream);

}  // namespace ranvier::cuda

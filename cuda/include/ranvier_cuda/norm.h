// Layer normalisation over the last axis on the GPU: the same operations as
// ranvier/norm.h (ranvier::cpu), plus scratch and the stream.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace ranvier::cuda {

// x (rows, d), gamma (d,), beta (d,) -> y (rows, d), and when not null
// mean (rows,) and rstd (rows,) = 1 / sqrt(var + eps), the biased variance:
//   y = (x - mean) * rstd * gamma + beta
// One warp per row. The moments are taken about the row's first value (two
// passes over the row), so rows with a large mean keep their variance and
// constant rows give y = beta exactly.
cudaError_t layer_norm(float* y, float* mean, float* rstd, const float* x, const float* gamma, const float* beta,
                       std::int64_t rows, std::int64_t d, float eps, cudaStream_t stream);

// Floats of scratch that layer_norm_backward needs for rows x d.
std::int64_t layer_norm_backward_scratch(std::int64_t rows, std::int64_t d);

// dy (rows, d), x (rows, d), gamma (d,), mean (rows,), rstd (rows,)
//   -> dx (rows, d), dgamma (d,), dbeta (d,)
// dgamma and dbeta are summed over fixed blocks of rows, then over the blocks
// in order: no atomics, the same result on every run.
cudaError_t layer_norm_backward(float* dx, float* dgamma, float* dbeta, float* scratch, const float* dy, const float* x,
                                const float* gamma, const float* mean, const float* rstd, std::int64_t rows,
                                std::int64_t d, cudaStream_t stream);

}  // namespace ranvier::cuda

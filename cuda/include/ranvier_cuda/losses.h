// Losses over a batch of samples on the GPU: the same operations as
// ranvier/losses.h (ranvier::cpu), plus the stream and scratch. Each loss
// computes one loss per sample (row), then reduces them.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ranvier/losses.h"

namespace ranvier::cuda {

// row_losses (rows,) -> loss (1,): their sum, or their mean (NaN for no rows),
// added in double in a fixed order. Nothing to do for reduction none.
cudaError_t reduce_losses(float* loss, const float* row_losses, std::int64_t rows, Reduction reduction,
                          cudaStream_t stream);

// pred, target (N,D) -> loss (N,) when reduction is none, else (1,):
// loss_i = mean_j (pred_ij - target_ij)^2. row_losses (N,) is scratch for
// mean and sum (unused for none).
cudaError_t mse(float* loss, const float* pred, const float* target, std::int64_t n, std::int64_t d,
                Reduction reduction, float* row_losses, cudaStream_t stream);

// -> dpred (N,D) = 2 (pred - target) / D * scale * dloss_i (dloss (N,) or null: 1).
cudaError_t mse_backward(float* dpred, const float* pred, const float* target, const float* dloss, float scale,
                         std::int64_t n, std::int64_t d, cudaStream_t stream);

// pred, target (N,D) -> loss (N,) or (1,): loss_i = mean_j bce(pred_ij, target_ij),
// from logits or from probabilities clipped to [eps, 1 - eps] (as on the CPU).
cudaError_t binary_cross_entropy(float* loss, const float* pred, const float* target, std::int64_t n, std::int64_t d,
                                 bool from_logits, Reduction reduction, float* row_losses, cudaStream_t stream);

// -> dpred (N,D) = d bce / d pred / D * scale * dloss_i: from logits
// sigmoid(x) - t; from probabilities (p - t) / (p (1 - p)) inside (eps, 1 - eps), else 0.
cudaError_t binary_cross_entropy_backward(float* dpred, const float* pred, const float* target, const float* dloss,
                                          float scale, std::int64_t n, std::int64_t d, bool from_logits,
                                          cudaStream_t stream);

}  // namespace ranvier::cuda

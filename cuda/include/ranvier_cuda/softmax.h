// Softmax, log-softmax and the fused softmax cross-entropy on the GPU: the
// same operations as ranvier/softmax.h (ranvier::cpu), plus the stream and
// the device scratch they need.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ranvier/losses.h"
#include "ranvier/softmax.h"

namespace ranvier::cuda {

using cpu::Labels;

// x (rows, n) -> y (rows, n): softmax of each row. y may alias x.
cudaError_t softmax(float* y, const float* x, std::int64_t rows, std::int64_t n, cudaStream_t stream);

// x (rows, n) -> y (rows, n): x - logsumexp(x) of each row. y may alias x.
cudaError_t log_softmax(float* y, const float* x, std::int64_t rows, std::int64_t n, cudaStream_t stream);

// dy, y (rows, n) -> dx (rows, n), y = softmax(x): dx = y (dy - sum(dy y)).
cudaError_t softmax_backward(float* dx, const float* dy, const float* y, std::int64_t rows, std::int64_t n,
                             cudaStream_t stream);

// dy, y (rows, n) -> dx (rows, n), y = log_softmax(x): dx = dy - exp(y) sum(dy).
cudaError_t log_softmax_backward(float* dx, const float* dy, const float* y, std::int64_t rows, std::int64_t n,
                                 cudaStream_t stream);

// Class-index labels are range-checked on the device: `bad_label` (one
// device word) ends as the first row whose label is outside [0, C), or
// kNoBadLabel; that row's result is NaN. Read it with find_bad_label.
constexpr unsigned long long kNoBadLabel = ~0ull;

// logits (N,C), labels -> loss (N,) when reduction is none, else (1,):
// loss_i = logsumexp(logits_i) - sum_j t_ij logits_ij, from each row's
// maximum. row_losses (N,) is scratch for mean and sum (unused for none).
cudaError_t softmax_cross_entropy(float* loss, const float* logits, Labels labels, std::int64_t n, std::int64_t c,
                                  Reduction reduction, float* row_losses, unsigned long long* bad_label,
                                  cudaStream_t stream);

// -> dlogits (N,C) = (softmax(logits_i) sum_j t_ij - t_i) * scale * dloss_i,
// where dloss (N,) may be null (then dloss_i = 1).
cudaError_t softmax_cross_entropy_backward(float* dlogits, const float* logits, Labels labels, const float* dloss,
                                           float scale, std::int64_t n, std::int64_t c, unsigned long long* bad_label,
                                           cudaStream_t stream);

// Waits for the stream, then reads bad_label: *found, and if so the row and
// its label (labels (N,) on the device).
cudaError_t find_bad_label(const unsigned long long* bad_label, const std::int64_t* labels, bool* found,
                           std::int64_t* row, std::int64_t* label, cudaStream_t stream);

}  // namespace ranvier::cuda

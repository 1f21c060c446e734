// Softmax and log-softmax over the last axis, and the fused softmax
// cross-entropy loss.
#pragma once

#include <cstdint>

#include "ranvier/losses.h"  // Reduction

namespace ranvier::cpu {

// x (rows, n) -> y (rows, n): softmax of each row. y may alias x.
void softmax(float* y, const float* x, std::int64_t rows, std::int64_t n);

// x (rows, n) -> y (rows, n): x - logsumexp(x) of each row. y may alias x.
void log_softmax(float* y, const float* x, std::int64_t rows, std::int64_t n);

// dy, y (rows, n) -> dx (rows, n), y = softmax(x): dx = y (dy - sum(dy y)).
void softmax_backward(float* dx, const float* dy, const float* y, std::int64_t rows, std::int64_t n);

// dy, y (rows, n) -> dx (rows, n), y = log_softmax(x): dx = dy - exp(y) sum(dy).
void log_softmax_backward(float* dx, const float* dy, const float* y, std::int64_t rows, std::int64_t n);

// Targets of a cross-entropy: class indices (N,) in [0, C), or probabilities
// (N, C). Exactly one is set.
struct Labels {
  const std::int64_t* index = nullptr;
  const float* prob = nullptr;
};

// logits (N,C), labels -> loss (N,) when reduction is none, else (1,):
// loss_i = logsumexp(logits_i) - sum_j t_ij logits_ij, computed per row from
// its maximum so that any finite logits give a finite loss. C >= 1.
void softmax_cross_entropy(float* loss, const float* logits, Labels labels, std::int64_t n, std::int64_t c,
                           Reduction reduction);

// -> dlogits (N,C) = (softmax(logits_i) sum_j t_ij - t_i) * scale * dloss_i,
// where dloss (N,) may be null (then dloss_i = 1). The op passes
// scale = dloss / N for mean, dloss for sum, 1 for none.
void softmax_cross_entropy_backward(float* dlogits, const float* logits, Labels labels, const float* dloss, float scale,
                                    std::int64_t n, std::int64_t c);

}  // namespace ranvier::cpu

// Losses over a batch of samples: mean squared error and binary cross-entropy.
// Each computes one loss per sample (row) and then reduces them.
#pragma once

#include <cstdint>

namespace ranvier {

// What a loss returns: the per-sample losses (N,), their mean or their sum.
enum class Reduction { none = 0, mean = 1, sum = 2 };

// Parses "none" | "mean" | "sum"; false for anything else.
bool parse_reduction(const char* name, Reduction* out);

namespace cpu {

// Keras' epsilon: probabilities are clipped to [eps, 1 - eps] before the log.
constexpr float kProbabilityEpsilon = 1e-7f;

// pred, target (N,D) -> loss (N,) when reduction is none, else (1,):
// loss_i = mean_j (pred_ij - target_ij)^2. Reductions sum in double in row
// order, so results do not depend on the number of threads.
void mse(float* loss, const float* pred, const float* target, std::int64_t n, std::int64_t d, Reduction reduction);

// -> dpred (N,D) = 2 (pred - target) / D * scale * dloss_i, where dloss (N,) may
// be null (then dloss_i = 1). The op passes scale = dloss / N for mean.
void mse_backward(float* dpred, const float* pred, const float* target, const float* dloss, float scale, std::int64_t n,
                  std::int64_t d);

// pred, target (N,D) -> loss (N,) or (1,): loss_i = mean_j bce(pred_ij, target_ij).
// from_logits: bce = max(x,0) - x t + log1p(exp(-|x|)), stable for any x.
// Otherwise pred is a probability p: bce = -(t log p' + (1-t) log q'), with
// p' = clip(p, eps, 1-eps) and q' = clip(1-p, eps, 1-eps) as Keras does.
void binary_cross_entropy(float* loss, const float* pred, const float* target, std::int64_t n, std::int64_t d,
                          bool from_logits, Reduction reduction);

// -> dpred (N,D) = d bce / d pred / D * scale * dloss_i (dloss as in mse_backward):
// from logits sigmoid(x) - t; from probabilities (p - t) / (p (1 - p)) inside
// (eps, 1 - eps) and 0 where the clip holds p.
void binary_cross_entropy_backward(float* dpred, const float* pred, const float* target, const float* dloss,
                                   float scale, std::int64_t n, std::int64_t d, bool from_logits);

}  // namespace cpu
}  // namespace ranvier

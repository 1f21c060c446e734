// Mean squared error, the binary cross-entropy from logits and its gradient,
// compiled once per ISA. (The BCE forward from probabilities needs a general
// log, which the Vec library does not have; it is scalar code in losses.cpp.)
#include <algorithm>
#include <cmath>

#include "losses_kernels.h"
#include "simd/blocks.h"
#include "simd/math.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;
using simd::for_blocks;
using simd::load_block;
using simd::store_block;

// The factor of row r's gradient: scale * dloss_r (dloss may be null).
float row_factor(const float* dloss, float scale, std::int64_t r) {
  return dloss != nullptr ? scale * dloss[r] : scale;
}

void mse(float* loss, const float* pred, const float* target, std::int64_t rows, std::int64_t d) {
  for (std::int64_t r = 0; r < rows; ++r, pred += d, target += d) {
    V acc = V::zero();  // zero-filled partial loads add nothing
    for_blocks<V>(d, [&](std::int64_t i, std::int64_t lanes) {
      V e = load_block<V>(pred + i, lanes) - load_block<V>(target + i, lanes);
      acc = fmadd(e, e, acc);
    });
    loss[r] = reduce_sum(acc) / static_cast<float>(d);
  }
}

void mse_backward(float* dpred, const float* pred, const float* target, const float* dloss, float scale,
                  std::int64_t rows, std::int64_t d) {
  for (std::int64_t r = 0; r < rows; ++r, dpred += d, pred += d, target += d) {
    const V g = V::set1(2.0f * row_factor(dloss, scale, r) / static_cast<float>(d));
    for_blocks<V>(d, [&](std::int64_t i, std::int64_t lanes) {
      store_block((load_block<V>(pred + i, lanes) - load_block<V>(target + i, lanes)) * g, dpred + i, lanes);
    });
  }
}

// bce from a logit x: max(x, 0) - x t + log(1 + e^{-|x|}), the log by
// log1p_unit since e^{-|x|} is in [0, 1] (no overflow for any x).
V bce_logits_term(V x, V t) {
  V log_term = simd::log1p_unit(simd::exp(V::zero() - abs(x)));
  return simd::propagate_nan(x, max(V::zero(), x) - x * t + log_term);
}

void bce_logits(float* loss, const float* logits, const float* target, std::int64_t rows, std::int64_t d) {
  for (std::int64_t r = 0; r < rows; ++r, logits += d, target += d) {
    V acc = V::zero();
    std::int64_t i = 0;
    for (; i + V::kLanes <= d; i += V::kLanes) acc = acc + bce_logits_term(V::load(logits + i), V::load(target + i));
    float tail = 0.0f;  // a partial block's zero lanes would each add log 2: the last few are scalar
    for (; i < d; ++i)
      tail += std::max(logits[i], 0.0f) - logits[i] * target[i] + std::log1p(std::exp(-std::fabs(logits[i])));
    loss[r] = (reduce_sum(acc) + tail) / static_cast<float>(d);
  }
}

// d bce / d pred: sigmoid(x) - t from logits; from probabilities
// (p - t) / (p (1 - p)) where eps < p < 1 - eps, else 0 (the clip holds p there).
V bce_grad(V p, V t, bool from_logits) {
  if (from_logits) return simd::propagate_nan(p, simd::sigmoid(p) - t);
  const V one = V::set1(1.0f), eps = V::set1(kProbabilityEpsilon), zero = V::zero();
  V g = (p - t) / (p * (one - p));
  return simd::propagate_nan(p, select(p > eps, select(p < one - eps, g, zero), zero));
}

void bce_backward(float* dpred, const float* pred, const float* target, const float* dloss, float scale,
                  std::int64_t rows, std::int64_t d, bool from_logits) {
  for (std::int64_t r = 0; r < rows; ++r, dpred += d, pred += d, target += d) {
    const V g = V::set1(row_factor(dloss, scale, r) / static_cast<float>(d));
    for_blocks<V>(d, [&](std::int64_t i, std::int64_t lanes) {
      V grad = bce_grad(load_block<V>(pred + i, lanes), load_block<V>(target + i, lanes), from_logits);
      store_block(grad * g, dpred + i, lanes);
    });
  }
}

}  // namespace

extern const LossKernels loss_kernels = {mse, mse_backward, bce_logits, bce_backward};

}  // namespace ranvier::cpu::RANVIER_ISA_NS

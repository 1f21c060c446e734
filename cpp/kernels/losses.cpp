// Losses: reduction names, the shared per-row reduction, dispatch, and the
// binary cross-entropy forward from probabilities (scalar: it needs a log).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "loss_reduction.h"
#include "losses_kernels.h"
#include "ranvier/runtime.h"

namespace ranvier {

namespace {
constexpr const char* kReductionNames[] = {"none", "mean", "sum"};
}  // namespace

bool parse_reduction(const char* name, Reduction* out) {
  for (int i = 0; i < 3; ++i) {
    if (std::strcmp(name, kReductionNames[i]) == 0) {
      *out = static_cast<Reduction>(i);
      return true;
    }
  }
  return false;
}

namespace cpu {

std::int64_t row_grain(std::int64_t n) {
  // Elements per thread below which waking another thread costs more than it saves.
  constexpr std::int64_t kGrain = 1 << 14;
  return std::max<std::int64_t>(1, kGrain / std::max<std::int64_t>(1, n));
}

void reduce_row_losses(float* loss, Reduction reduction, std::int64_t rows, std::int64_t grain,
                       const std::function<void(float*, std::int64_t, std::int64_t)>& row_losses) {
  // Slot 6 of the calling thread; the workers only write their own rows of it.
  float* out =
      reduction == Reduction::none ? loss : scratch(ScratchSlot::pool_softmax_losses, static_cast<std::size_t>(rows));
  parallel_for(rows, grain, [&](std::int64_t begin, std::int64_t end) { row_losses(out, begin, end); });
  if (reduction == Reduction::none) return;
  double total = 0.0;
  for (std::int64_t r = 0; r < rows; ++r) total += out[r];
  if (reduction == Reduction::mean)
    total = rows > 0 ? total / static_cast<double>(rows) : std::numeric_limits<double>::quiet_NaN();
  loss[0] = static_cast<float>(total);
}

void mse(float* loss, const float* pred, const float* target, std::int64_t n, std::int64_t d, Reduction reduction) {
  const LossKernels& k = RANVIER_ISA_TABLE(loss_kernels);
  reduce_row_losses(loss, reduction, n, row_grain(d), [&](float* out, std::int64_t begin, std::int64_t end) {
    k.mse(out + begin, pred + begin * d, target + begin * d, end - begin, d);
  });
}

void mse_backward(float* dpred, const float* pred, const float* target, const float* dloss, float scale, std::int64_t n,
                  std::int64_t d) {
  const LossKernels& k = RANVIER_ISA_TABLE(loss_kernels);
  parallel_for(n, row_grain(d), [&](std::int64_t begin, std::int64_t end) {
    k.mse_backward(dpred + begin * d, pred + begin * d, target + begin * d, dloss != nullptr ? dloss + begin : nullptr,
                   scale, end - begin, d);
  });
}

namespace {

// From probabilities (the logits have their vector kernel, bce_logits).
float bce(float x, float t) {
  const float lo = kProbabilityEpsilon, hi = 1.0f - kProbabilityEpsilon;
  // Clipping p and 1 - p separately keeps log(1 - p) at log(eps), not at the
  // log of 1 - float(1 - eps), which float32 rounds to 1.19e-7.
  const float p = std::clamp(x, lo, hi), q = std::clamp(1.0f - x, lo, hi);
  return -(t * std::log(p) + (1.0f - t) * std::log(q));
}

}  // namespace

void binary_cross_entropy(float* loss, const float* pred, const float* target, std::int64_t n, std::int64_t d,
                          bool from_logits, Reduction reduction) {
  if (from_logits) {
    const LossKernels& k = RANVIER_ISA_TABLE(loss_kernels);
    reduce_row_losses(loss, reduction, n, row_grain(d), [&](float* out, std::int64_t begin, std::int64_t end) {
      k.bce_logits(out + begin, pred + begin * d, target + begin * d, end - begin, d);
    });
    return;
  }
  reduce_row_losses(loss, reduction, n, row_grain(d), [&](float* out, std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) {
      double sum = 0.0;
      for (std::int64_t j = r * d; j < (r + 1) * d; ++j) sum += bce(pred[j], target[j]);
      out[r] = static_cast<float>(sum / static_cast<double>(d));
    }
  });
}

void binary_cross_entropy_backward(float* dpred, const float* pred, const float* target, const float* dloss,
                                   float scale, std::int64_t n, std::int64_t d, bool from_logits) {
  const LossKernels& k = RANVIER_ISA_TABLE(loss_kernels);
  parallel_for(n, row_grain(d), [&](std::int64_t begin, std::int64_t end) {
    k.bce_backward(dpred + begin * d, pred + begin * d, target + begin * d, dloss != nullptr ? dloss + begin : nullptr,
                   scale, end - begin, d, from_logits);
  });
}

}  // namespace cpu
}  // namespace ranvier

// Optimizer dispatch: per-call scalars (bias corrections in double), ISA
// choice and threading over contiguous chunks.
#include <cmath>

#include "optim_kernels.h"
#include "ranvier/optim.h"
#include "ranvier/runtime.h"

namespace ranvier::cpu {

namespace {
// Elements per thread below which waking another thread costs more than it saves.
constexpr std::int64_t kGrain = 1 << 15;
}  // namespace

void sgd_update(float* param, float* velocity, const float* grad, std::int64_t n, float lr,
                float momentum, bool nesterov, float weight_decay) {
  const OptimKernels& k = RANVIER_ISA_TABLE(optim_kernels);
  const SgdCoefficients c = {lr, momentum, weight_decay, nesterov};
  parallel_for(n, kGrain, [&](std::int64_t begin, std::int64_t end) {
    k.sgd(param + begin, velocity == nullptr ? nullptr : velocity + begin, grad + begin, end - begin, c);
  });
}

void adam_update(float* param, float* m, float* v, const float* grad, std::int64_t n,
                 std::int64_t step, float lr, float beta1, float beta2, float eps,
                 float weight_decay, bool decoupled) {
  const OptimKernels& k = RANVIER_ISA_TABLE(optim_kernels);
  const double t = static_cast<double>(step);
  const double bias1 = 1.0 - std::pow(static_cast<double>(beta1), t);
  const double bias2 = 1.0 - std::pow(static_cast<double>(beta2), t);
  AdamCoefficients c;
  c.beta1 = beta1;
  c.beta2 = beta2;
  c.l2 = decoupled ? 0.0f : weight_decay;
  c.decay = decoupled ? static_cast<float>(1.0 - static_cast<double>(lr) * weight_decay) : 1.0f;
  c.step_size = static_cast<float>(lr / bias1);
  c.inv_sqrt_bias2 = static_cast<float>(1.0 / std::sqrt(bias2));
  c.eps = eps;
  parallel_for(n, kGrain, [&](std::int64_t begin, std::int64_t end) {
    k.adam(param + begin, m + begin, v + begin, grad + begin, end - begin, c);
  });
}

}  // namespace ranvier::cpu

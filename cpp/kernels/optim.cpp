// Optimizer dispatch: per-call scalars (bias corrections in double), ISA
// choice and threading over contiguous chunks.
#include "ranvier/optim.h"
#include "optim_kernels.h"
#include "ranvier/runtime.h"

namespace ranvier::cpu {

namespace {
// Elements per thread below which waking another thread costs more than it saves.
constexpr std::int64_t kGrain = 1 << 15;
}  // namespace

void sgd_update(float* param, float* velocity, const float* grad, std::int64_t n, float lr, float momentum,
                bool nesterov, float weight_decay) {
  const OptimKernels& k = RANVIER_ISA_TABLE(optim_kernels);
  const SgdCoefficients c = {lr, momentum, weight_decay, nesterov};
  parallel_for(n, kGrain, [&](std::int64_t begin, std::int64_t end) {
    k.sgd(param + begin, velocity == nullptr ? nullptr : velocity + begin, grad + begin, end - begin, c);
  });
}

void adam_update(float* param, float* m, float* v, float* v_hat, const float* grad, std::int64_t n, std::int64_t step,
                 float lr, float beta1, float beta2, float eps, float weight_decay, bool decoupled) {
  const OptimKernels& k = RANVIER_ISA_TABLE(optim_kernels);
  const AdamCoefficients c = AdamCoefficients::for_step(step, lr, beta1, beta2, eps, weight_decay, decoupled);
  parallel_for(n, kGrain, [&](std::int64_t begin, std::int64_t end) {
    k.adam(param + begin, m + begin, v + begin, v_hat == nullptr ? nullptr : v_hat + begin, grad + begin, end - begin,
           c);
  });
}

void nadam_update(float* param, float* m, float* v, const float* grad, std::int64_t n, const NadamCoefficients& c) {
  const OptimKernels& k = RANVIER_ISA_TABLE(optim_kernels);
  parallel_for(n, kGrain, [&](std::int64_t begin, std::int64_t end) {
    k.nadam(param + begin, m + begin, v + begin, grad + begin, end - begin, c);
  });
}

void adagrad_update(float* param, float* accumulator, const float* grad, std::int64_t n, const AdagradCoefficients& c) {
  const OptimKernels& k = RANVIER_ISA_TABLE(optim_kernels);
  parallel_for(n, kGrain, [&](std::int64_t begin, std::int64_t end) {
    k.adagrad(param + begin, accumulator + begin, grad + begin, end - begin, c);
  });
}

void adamax_update(float* param, float* m, float* u, const float* grad, std::int64_t n, const AdamaxCoefficients& c) {
  const OptimKernels& k = RANVIER_ISA_TABLE(optim_kernels);
  parallel_for(n, kGrain, [&](std::int64_t begin, std::int64_t end) {
    k.adamax(param + begin, m + begin, u + begin, grad + begin, end - begin, c);
  });
}

void lion_update(float* param, float* m, const float* grad, std::int64_t n, const LionCoefficients& c) {
  const OptimKernels& k = RANVIER_ISA_TABLE(optim_kernels);
  parallel_for(n, kGrain, [&](std::int64_t begin, std::int64_t end) {
    k.lion(param + begin, m + begin, grad + begin, end - begin, c);
  });
}

void rmsprop_update(float* param, float* v, float* velocity, float* mean_grad, const float* grad, std::int64_t n,
                    float lr, float rho, float eps, float momentum) {
  const OptimKernels& k = RANVIER_ISA_TABLE(optim_kernels);
  const RmspropCoefficients c = {lr, rho, eps, momentum};
  parallel_for(n, kGrain, [&](std::int64_t begin, std::int64_t end) {
    k.rmsprop(param + begin, v + begin, velocity == nullptr ? nullptr : velocity + begin,
              mean_grad == nullptr ? nullptr : mean_grad + begin, grad + begin, end - begin, c);
  });
}

}  // namespace ranvier::cpu

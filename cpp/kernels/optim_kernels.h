// Per-ISA optimizer loops (see optim_simd.cpp); the scalars are prepared once
// per call in optim.cpp.
#pragma once

#include <cstdint>

#include "isa_table.h"
#include "ranvier/optim.h"

namespace ranvier::cpu {

struct SgdCoefficients {
  float lr, momentum, weight_decay;
  bool nesterov;
};

struct RmspropCoefficients {
  float lr, rho, eps, momentum;
};

struct OptimKernels {
  // param (n), velocity (n) or null, grad (n); updates in place.
  void (*sgd)(float* param, float* velocity, const float* grad, std::int64_t n, const SgdCoefficients& c);
  // param (n), m (n), v (n), v_hat (n) or null (AMSGrad), grad (n); updates in place.
  void (*adam)(float* param, float* m, float* v, float* v_hat, const float* grad, std::int64_t n,
               const AdamCoefficients& c);
  // param, v (n), velocity and mean_grad (n) or null, grad (n); updates in place.
  void (*rmsprop)(float* param, float* v, float* velocity, float* mean_grad, const float* grad, std::int64_t n,
                  const RmspropCoefficients& c);
  // The Keras 3 optimizers: param and its slots (n), grad (n); see ranvier/optim.h.
  void (*nadam)(float* param, float* m, float* v, const float* grad, std::int64_t n, const NadamCoefficients& c);
  void (*adagrad)(float* param, float* accumulator, const float* grad, std::int64_t n, const AdagradCoefficients& c);
  void (*adamax)(float* param, float* m, float* u, const float* grad, std::int64_t n, const AdamaxCoefficients& c);
  void (*lion)(float* param, float* m, const float* grad, std::int64_t n, const LionCoefficients& c);
};

RANVIER_DECLARE_ISA_TABLE(OptimKernels, optim_kernels)

}  // namespace ranvier::cpu

// Per-ISA optimizer loops (see optim_simd.cpp); the scalars are prepared once
// per call in optim.cpp.
#pragma once

#include <cstdint>

#include "isa_table.h"

namespace ranvier::cpu {

struct SgdCoefficients {
  float lr, momentum, weight_decay;
  bool nesterov;
};

struct AdamCoefficients {
  float beta1, beta2;
  float l2;                // added to the gradient times param (0 for AdamW)
  float decay;             // param multiplier before the step (1 - lr*wd for AdamW, else 1)
  float step_size;         // lr / (1 - beta1^t)
  float inv_sqrt_bias2;    // 1 / sqrt(1 - beta2^t)
  float eps;
};

struct OptimKernels {
  // param (n), velocity (n) or null, grad (n); updates in place.
  void (*sgd)(float* param, float* velocity, const float* grad, std::int64_t n,
              const SgdCoefficients& c);
  // param (n), m (n), v (n), grad (n); updates in place.
  void (*adam)(float* param, float* m, float* v, const float* grad, std::int64_t n,
               const AdamCoefficients& c);
};

RANVIER_DECLARE_ISA_TABLE(OptimKernels, optim_kernels)

}  // namespace ranvier::cpu

// Per-ISA row kernels of layer normalisation (see norm_simd.cpp).
#pragma once

#include <cstdint>

#include "isa_table.h"

namespace ranvier::cpu {

struct NormKernels {
  // One row: x (d) -> y (d), *mean, *rstd.
  void (*forward_row)(float* y, float* mean, float* rstd, const float* x, const float* gamma, const float* beta,
                      std::int64_t d, float eps);
  // One row: dy (d), x (d) -> dx (d); adds dy * xhat to dgamma (d) and dy to dbeta (d).
  void (*backward_row)(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* gamma,
                       float mean, float rstd, std::int64_t d);
};

RANVIER_DECLARE_ISA_TABLE(NormKernels, norm_kernels)

}  // namespace ranvier::cpu

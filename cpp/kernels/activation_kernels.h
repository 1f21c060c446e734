// Per-ISA entry points of the activation family (see activation_simd.cpp).
#pragma once

#include <cstdint>

#include "isa_table.h"
#include "ranvier/activation.h"

namespace ranvier::cpu {

// stream: write the output past the caches (see simd::write_blocks).
struct ActivationKernels {
  void (*forward)(Activation act, const ActivationParams& p, float* y, const float* x, std::int64_t n, bool stream);
  void (*backward)(Activation act, const ActivationParams& p, float* dx, const float* dy, const float* saved,
                   std::int64_t n, bool stream);
};

RANVIER_DECLARE_ISA_TABLE(ActivationKernels, activation_kernels)

}  // namespace ranvier::cpu

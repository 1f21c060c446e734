// Per-ISA loops of the host's ceilings (see ceiling_simd.cpp).
#pragma once

#include <cstdint>

#include "isa_table.h"

namespace ranvier::cpu {

struct CeilingKernels {
  // Runs `rounds` rounds of independent FMA chains on this thread; returns the FLOPs done.
  double (*fma_chains)(std::int64_t rounds);
  // STREAM triad a (n) = b (n) + s * c (n).
  void (*triad)(float* a, const float* b, const float* c, float s, std::int64_t n);
};

RANVIER_DECLARE_ISA_TABLE(CeilingKernels, ceiling_kernels)

}  // namespace ranvier::cpu

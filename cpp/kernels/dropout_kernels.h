// Per-ISA loops of dropout (see dropout_simd.cpp).
#pragma once

#include <cstdint>

#include "isa_table.h"

namespace ranvier::cpu {

struct DropoutKernels {
  // Elements [begin, end) of x, y, mask; begin is even (one hash per pair).
  void (*forward)(float* y, std::uint8_t* mask, const float* x, std::int64_t begin, std::int64_t end,
                  std::uint64_t seed, std::uint32_t threshold, float scale);
  // dx (n) = dy (n) * mask (n) * scale.
  void (*backward)(float* dx, const float* dy, const std::uint8_t* mask, std::int64_t n, float scale);
};

RANVIER_DECLARE_ISA_TABLE(DropoutKernels, dropout_kernels)

}  // namespace ranvier::cpu

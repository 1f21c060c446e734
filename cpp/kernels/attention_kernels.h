// Per-ISA row loops of the attention family (see attention_simd.cpp): the
// exp / rescale work on one row of a score tile, between the GEMMs.
#pragma once

#include <cstdint>

#include "isa_table.h"

namespace ranvier::cpu {

struct AttentionKernels {
  // max of s (n); -inf when n == 0 or every entry is -inf.
  float (*row_max)(const float* s, std::int64_t n);
  // p (n) = exp(scale * s - shift); returns sum(p). p may alias s.
  float (*exp_row)(float* p, const float* s, std::int64_t n, float scale, float shift);
  // x (n) *= a.
  void (*scale_row)(float* x, std::int64_t n, float a);
  // ds (n) = scale * p * (dp - delta): the softmax backward of one row, with
  // the logits' scale folded in. ds may alias dp.
  void (*softmax_grad_row)(float* ds, const float* p, const float* dp, std::int64_t n, float delta,
                           float scale);
};

RANVIER_DECLARE_ISA_TABLE(AttentionKernels, attention_kernels)

}  // namespace ranvier::cpu

// Per-ISA entry points of the losses family (see losses_simd.cpp). Each
// processes `rows` contiguous rows of length d; losses.cpp splits the rows
// among threads and offsets the pointers.
#pragma once

#include <cstdint>

#include "isa_table.h"
#include "ranvier/losses.h"

namespace ranvier::cpu {

struct LossKernels {
  // loss (rows,) = mean_j (pred - target)^2 of each row.
  void (*mse)(float* loss, const float* pred, const float* target, std::int64_t rows, std::int64_t d);
  void (*mse_backward)(float* dpred, const float* pred, const float* target, const float* dloss, float scale,
                       std::int64_t rows, std::int64_t d);
  // loss (rows,) = mean_j of the binary cross-entropy of each row from logits.
  void (*bce_logits)(float* loss, const float* logits, const float* target, std::int64_t rows, std::int64_t d);
  void (*bce_backward)(float* dpred, const float* pred, const float* target, const float* dloss, float scale,
                       std::int64_t rows, std::int64_t d, bool from_logits);
};

RANVIER_DECLARE_ISA_TABLE(LossKernels, loss_kernels)

}  // namespace ranvier::cpu

// Per-ISA entry points of the softmax family (see softmax_simd.cpp). Each
// processes `rows` contiguous rows of length n; softmax.cpp splits the rows
// among threads and offsets the pointers.
#pragma once

#include <cstdint>

#include "isa_table.h"
#include "ranvier/softmax.h"

namespace ranvier::cpu {

struct SoftmaxKernels {
  void (*softmax)(float* y, const float* x, std::int64_t rows, std::int64_t n);
  void (*log_softmax)(float* y, const float* x, std::int64_t rows, std::int64_t n);
  void (*softmax_backward)(float* dx, const float* dy, const float* y, std::int64_t rows, std::int64_t n);
  void (*log_softmax_backward)(float* dx, const float* dy, const float* y, std::int64_t rows, std::int64_t n);
  // loss (rows,): the cross-entropy of each row.
  void (*cross_entropy)(float* loss, const float* logits, Labels labels, std::int64_t rows, std::int64_t n);
  void (*cross_entropy_backward)(float* dlogits, const float* logits, Labels labels, const float* dloss, float scale,
                                 std::int64_t rows, std::int64_t n);
};

RANVIER_DECLARE_ISA_TABLE(SoftmaxKernels, softmax_kernels)

}  // namespace ranvier::cpu

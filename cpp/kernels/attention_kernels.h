// Per-ISA tile loops of the attention family (see attention_simd.cpp): the
// exp / rescale work on score tiles between the GEMMs, and tile transposes.
#pragma once

#include <cstdint>

#include "isa_table.h"

namespace ranvier::cpu {

struct AttentionKernels {
  // One key block of the forward's online softmax. s (rows, cols), leading
  // dimension lds: the block's unscaled logits (masked ones -inf), replaced by
  // exp(scale * (s - m_new)) where m_new = max(m, rowmax(s)) (0 instead of
  // m_new while a row has seen no allowed key). Per row, m (row_max, unscaled)
  // and l (row_sum) become m_new and l * exp(scale * (m - m_new)) +
  // rowsum(exp(...)), and the output row o (dv, leading dimension ldo) is
  // rescaled by exp(scale * (m - m_new)). tmp: 2 * rows floats.
  void (*online_softmax)(float* s, std::int64_t lds, std::int64_t rows, std::int64_t cols, float scale, float* row_max,
                         float* row_sum, float* o, std::int64_t ldo, std::int64_t dv, float* tmp);
  // x (n) *= a.
  void (*scale_row)(float* x, std::int64_t n, float a);
  // p (rows, cols), leading dimension ld, in place: p = exp(scale * p - shift[c]).
  void (*exp_tile)(float* p, std::int64_t ld, std::int64_t rows, std::int64_t cols, float scale, const float* shift);
  // The softmax backward of a transposed tile (one key per row, one query per
  // column), the logits' scale folded in: ds = scale * p * (ds - delta[c]),
  // in place; ds and p (rows, cols) share the leading dimension ld.
  void (*softmax_grad_tile)(float* ds, const float* p, std::int64_t ld, std::int64_t rows, std::int64_t cols,
                            const float* delta, float scale);
  // dst (cols, rows), leading dimension ldd = src^T, src (rows, cols) with leading dimension lds.
  void (*transpose)(float* dst, std::int64_t ldd, const float* src, std::int64_t lds, std::int64_t rows,
                    std::int64_t cols);
  // sum of a[c] * b[c], c < n.
  float (*dot)(const float* a, const float* b, std::int64_t n);
};

RANVIER_DECLARE_ISA_TABLE(AttentionKernels, attention_kernels)

}  // namespace ranvier::cpu

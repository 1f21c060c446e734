// Attention's tile loops, compiled once per ISA.
#include <limits>

#include "attention_kernels.h"
#include "simd/blocks.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;
using simd::for_blocks;
using simd::load_block;
using simd::store_block;

constexpr float kInf = std::numeric_limits<float>::infinity();

float row_max(const float* s, std::int64_t n) {
  float m = -kInf;
  std::int64_t i = 0;
  if (n >= V::kLanes) {
    V acc = V::load(s);
    for (i = V::kLanes; i + V::kLanes <= n; i += V::kLanes) acc = max(acc, V::load(s + i));
    m = reduce_max(acc);
  }
  // Scalar tail: a partial load fills the missing lanes with 0, not -inf.
  for (; i < n; ++i) m = s[i] > m ? s[i] : m;
  return m;
}

// p (n) = exp(scale * (s - shift)) in place; returns sum(p). The shift is a
// logit of the row, so s - shift is exact near the maximum (0 at it) however
// large the logits: scale * s - scale * shift would leave the rounding error
// of scale * shift, which is huge for huge logits, in the exponent.
float exp_row(float* p, std::int64_t n, float scale, float shift) {
  const V vs = V::set1(scale), vshift = V::set1(shift);
  V sum = V::zero();
  std::int64_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes) {
    V e = simd::exp((V::load(p + i) - vshift) * vs);
    e.store(p + i);
    sum = sum + e;
  }
  if (i < n) {
    simd::exp((V::load_partial(p + i, n - i) - vshift) * vs).store_partial(p + i, n - i);
    sum = sum + V::load_partial(p + i, n - i);  // reloaded: the unused lanes read as 0
  }
  return reduce_sum(sum);
}

void scale_row(float* x, std::int64_t n, float a) {
  const V va = V::set1(a);
  for_blocks<V>(
      n, [&](std::int64_t i, std::int64_t lanes) { store_block(load_block<V>(x + i, lanes) * va, x + i, lanes); });
}

// In three passes over the rows, so that the rows' reductions and the
// rescale factors (one exp for 16 rows at once) overlap instead of forming
// one long dependency chain per row. row_max_io holds unscaled logits.
void online_softmax(float* s, std::int64_t lds, std::int64_t rows, std::int64_t cols, float scale, float* row_max_io,
                    float* row_sum, float* o, std::int64_t ldo, std::int64_t dv, float* tmp) {
  float* shift = tmp;
  float* alpha = tmp + rows;
  for (std::int64_t r = 0; r < rows; ++r) shift[r] = row_max(s + r * lds, cols);
  const V below_all = V::set1(-std::numeric_limits<float>::max()), vs = V::set1(scale);
  for_blocks<V>(rows, [&](std::int64_t r, std::int64_t lanes) {
    const V m_old = load_block<V>(row_max_io + r, lanes);
    const V m_new = max(m_old, load_block<V>(shift + r, lanes));
    // A row with nothing allowed yet keeps m = -inf; shifting by 0 then
    // turns its -inf logits into exact zeros instead of NaN.
    const V sh = select(m_new < below_all, V::zero(), m_new);
    store_block(m_new, row_max_io + r, lanes);
    store_block(sh, shift + r, lanes);
    store_block(simd::exp((m_old - sh) * vs), alpha + r, lanes);
  });
  for (std::int64_t r = 0; r < rows; ++r) {
    const float sum = exp_row(s + r * lds, cols, scale, shift[r]);
    if (alpha[r] != 1.0f && row_sum[r] > 0.0f) scale_row(o + r * ldo, dv, alpha[r]);
    row_sum[r] = row_sum[r] * alpha[r] + sum;
  }
}

void exp_tile(float* p, std::int64_t ld, std::int64_t rows, std::int64_t cols, float scale, const float* shift) {
  const V vs = V::set1(scale);
  for (std::int64_t r = 0; r < rows; ++r) {
    float* pr = p + r * ld;
    for_blocks<V>(cols, [&](std::int64_t c, std::int64_t lanes) {
      const V x = fmadd(load_block<V>(pr + c, lanes), vs, V::zero() - load_block<V>(shift + c, lanes));
      store_block(simd::exp(x), pr + c, lanes);
    });
  }
}

void softmax_grad_tile(float* ds, const float* p, std::int64_t ld, std::int64_t rows, std::int64_t cols,
                       const float* delta, float scale) {
  const V vs = V::set1(scale);
  for (std::int64_t r = 0; r < rows; ++r) {
    float* dr = ds + r * ld;
    const float* pr = p + r * ld;
    for_blocks<V>(cols, [&](std::int64_t c, std::int64_t lanes) {
      const V g = vs * load_block<V>(pr + c, lanes) * (load_block<V>(dr + c, lanes) - load_block<V>(delta + c, lanes));
      store_block(g, dr + c, lanes);
    });
  }
}

void transpose(float* dst, std::int64_t ldd, const float* src, std::int64_t lds, std::int64_t rows, std::int64_t cols) {
  constexpr std::int64_t L = V::kLanes;
  const std::int64_t full_rows = rows / L * L, full_cols = cols / L * L;
  for (std::int64_t r = 0; r < full_rows; r += L)
    for (std::int64_t c = 0; c < full_cols; c += L)
      simd::transpose_block<V>(dst + c * ldd + r, ldd, src + r * lds + c, lds);
  // The edges, element by element.
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = r < full_rows ? full_cols : 0; c < cols; ++c) dst[c * ldd + r] = src[r * lds + c];
}

float dot(const float* a, const float* b, std::int64_t n) {
  V acc = V::zero();
  for_blocks<V>(n, [&](std::int64_t i, std::int64_t lanes) {
    acc = fmadd(load_block<V>(a + i, lanes), load_block<V>(b + i, lanes), acc);
  });
  return reduce_sum(acc);
}

}  // namespace

extern const AttentionKernels attention_kernels = {online_softmax,    scale_row, exp_tile,
                                                   softmax_grad_tile, transpose, dot};

}  // namespace ranvier::cpu::RANVIER_ISA_NS

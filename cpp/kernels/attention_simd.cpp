// Attention's row loops, compiled once per ISA.
#include <limits>

#include "attention_kernels.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;

float row_max(const float* s, std::int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
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

float exp_row(float* p, const float* s, std::int64_t n, float scale, float shift) {
  const V vs = V::set1(scale), vneg = V::set1(-shift);
  V sum = V::zero();
  std::int64_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes) {
    V e = simd::exp(fmadd(V::load(s + i), vs, vneg));
    e.store(p + i);
    sum = sum + e;
  }
  if (i < n) {
    simd::exp(fmadd(V::load_partial(s + i, n - i), vs, vneg)).store_partial(p + i, n - i);
    sum = sum + V::load_partial(p + i, n - i);  // reloaded: the unused lanes read as 0
  }
  return reduce_sum(sum);
}

void scale_row(float* x, std::int64_t n, float a) {
  const V va = V::set1(a);
  std::int64_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes) (V::load(x + i) * va).store(x + i);
  if (i < n) (V::load_partial(x + i, n - i) * va).store_partial(x + i, n - i);
}

void softmax_grad_row(float* ds, const float* p, const float* dp, std::int64_t n, float delta,
                      float scale) {
  const V vd = V::set1(delta), vs = V::set1(scale);
  std::int64_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes)
    (vs * V::load(p + i) * (V::load(dp + i) - vd)).store(ds + i);
  if (i < n) {
    V g = vs * V::load_partial(p + i, n - i) * (V::load_partial(dp + i, n - i) - vd);
    g.store_partial(ds + i, n - i);
  }
}

}  // namespace

extern const AttentionKernels attention_kernels = {row_max, exp_row, scale_row, softmax_grad_row};

}  // namespace ranvier::cpu::RANVIER_ISA_NS

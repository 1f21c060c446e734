// Layer-norm row kernels, compiled once per ISA.
#include <algorithm>
#include <cmath>

#include "norm_kernels.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;

// Mean and sum of squared deviations of a row.
struct Moments {
  float mean, m2;
};

// load_partial(kOnes, r) is 1 in the first r lanes and 0 in the others.
constexpr float kOnes[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
static_assert(V::kLanes <= 16, "kOnes must cover one vector");

// Moments of x (d) - shift in one pass. Every lane of two vectors runs
// Welford's update over its own column of the row (two groups, so that two
// dependency chains run at once); the lanes then merge exactly by the parallel
// axis theorem. Subtracting the row's first value first keeps the running
// means small, so their rounding does not grow with the row's mean.
Moments row_moments(const float* x, std::int64_t d, float shift) {
  const V vshift = V::set1(shift), one = V::set1(1.0f);
  V mean[2] = {V::zero(), V::zero()}, m2[2] = {V::zero(), V::zero()};
  std::int64_t i = 0;
  float steps = 0.0f;
  for (; i + 2 * V::kLanes <= d; i += 2 * V::kLanes) {
    steps += 1.0f;
    const V inv = V::set1(1.0f / steps);
    for (int g = 0; g < 2; ++g) {
      V xs = V::load(x + i + g * V::kLanes) - vshift;
      V delta = xs - mean[g];
      mean[g] = fmadd(delta, inv, mean[g]);
      m2[g] = fmadd(delta, xs - mean[g], m2[g]);
    }
  }
  V count[2] = {V::set1(steps), V::set1(steps)};
  // The last values (fewer than two vectors): the lanes that take one count
  // it, the others keep their state (their delta is weighted by 0).
  for (int g = 0; i < d; ++g, i += V::kLanes) {
    const std::int64_t r = std::min<std::int64_t>(V::kLanes, d - i);
    const V take = V::load_partial(kOnes, r);
    count[g] = count[g] + take;
    V xs = V::load_partial(x + i, r) - vshift;
    V delta = (xs - mean[g]) * take;
    mean[g] = fmadd(delta, take / max(count[g], one), mean[g]);
    m2[g] = fmadd(delta, xs - mean[g], m2[g]);
  }
  const float mu = reduce_sum(fmadd(count[0], mean[0], count[1] * mean[1])) / static_cast<float>(d);
  const V dev0 = mean[0] - V::set1(mu), dev1 = mean[1] - V::set1(mu);
  V spread = fmadd(count[0] * dev0, dev0, count[1] * dev1 * dev1);
  return {mu, reduce_sum(m2[0] + m2[1] + spread)};
}

// Full vectors in the body, a masked one for the tail: one loop for both.
V load(const float* p, std::int64_t r) { return r == V::kLanes ? V::load(p) : V::load_partial(p, r); }
void store(V a, float* p, std::int64_t r) {
  if (r == V::kLanes)
    a.store(p);
  else
    a.store_partial(p, r);
}

void forward_row(float* y, float* mean_out, float* rstd_out, const float* x, const float* gamma, const float* beta,
                 std::int64_t d, float eps) {
  const float shift = x[0];
  const Moments mo = row_moments(x, d, shift);
  const float rstd = 1.0f / std::sqrt(mo.m2 / static_cast<float>(d) + eps);
  const V vshift = V::set1(shift), vmean = V::set1(mo.mean), vrstd = V::set1(rstd);
  for (std::int64_t i = 0; i < d; i += V::kLanes) {
    const std::int64_t r = std::min<std::int64_t>(V::kLanes, d - i);
    V xhat = (load(x + i, r) - vshift - vmean) * vrstd;
    store(fmadd(xhat, load(gamma + i, r), load(beta + i, r)), y + i, r);
  }
  *mean_out = shift + mo.mean;
  *rstd_out = rstd;
}

// With xhat = (x - mean) rstd and g = dy gamma:
//   dx = rstd (g - mean(g) - xhat mean(g xhat))
void backward_row(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* gamma,
                  float mean, float rstd, std::int64_t d) {
  const V vmean = V::set1(mean), vrstd = V::set1(rstd);
  V sum_g = V::zero(), sum_gx = V::zero();
  for (std::int64_t i = 0; i < d; i += V::kLanes) {
    const std::int64_t r = std::min<std::int64_t>(V::kLanes, d - i);
    V xhat = (load(x + i, r) - vmean) * vrstd;
    V dyv = load(dy + i, r);
    V g = dyv * load(gamma + i, r);  // lanes past the row load as 0 and add nothing
    sum_g = sum_g + g;
    sum_gx = fmadd(g, xhat, sum_gx);
    store(fmadd(dyv, xhat, load(dgamma + i, r)), dgamma + i, r);
    store(load(dbeta + i, r) + dyv, dbeta + i, r);
  }
  const float inv_d = 1.0f / static_cast<float>(d);
  const V va = V::set1(reduce_sum(sum_g) * inv_d), vb = V::set1(reduce_sum(sum_gx) * inv_d);
  for (std::int64_t i = 0; i < d; i += V::kLanes) {
    const std::int64_t r = std::min<std::int64_t>(V::kLanes, d - i);
    V xhat = (load(x + i, r) - vmean) * vrstd;
    V g = load(dy + i, r) * load(gamma + i, r);
    store(fnmadd(xhat, vb, g - va) * vrstd, dx + i, r);
  }
}

}  // namespace

extern const NormKernels norm_kernels = {forward_row, backward_row};

}  // namespace ranvier::cpu::RANVIER_ISA_NS

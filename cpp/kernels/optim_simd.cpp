// Optimizer updates, compiled once per ISA: each element is read and written
// once, all state updates fused into the same pass.
#include <algorithm>

#include "optim_kernels.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;

// Full vectors in the body, a masked one for the tail: one loop for both.
V load(const float* p, std::int64_t r) { return r == V::kLanes ? V::load(p) : V::load_partial(p, r); }
void store(V a, float* p, std::int64_t r) {
  if (r == V::kLanes)
    a.store(p);
  else
    a.store_partial(p, r);
}

// The velocity and Nesterov choices are template parameters, so the loop
// carries no branch per element.
template <bool kVelocity, bool kNesterov>
void sgd_loop(float* param, float* velocity, const float* grad, std::int64_t n, const SgdCoefficients& c) {
  const V lr = V::set1(c.lr), mu = V::set1(c.momentum), wd = V::set1(c.weight_decay);
  for (std::int64_t i = 0; i < n; i += V::kLanes) {
    const std::int64_t r = std::min<std::int64_t>(V::kLanes, n - i);
    V p = load(param + i, r);
    V g = fmadd(wd, p, load(grad + i, r));
    V update = g;
    if constexpr (kVelocity) {
      V vel = fmadd(mu, load(velocity + i, r), g);
      store(vel, velocity + i, r);
      update = kNesterov ? fmadd(mu, vel, g) : vel;
    }
    store(fnmadd(lr, update, p), param + i, r);
  }
}

void sgd(float* param, float* velocity, const float* grad, std::int64_t n, const SgdCoefficients& c) {
  if (velocity == nullptr)
    sgd_loop<false, false>(param, velocity, grad, n, c);
  else if (c.nesterov)
    sgd_loop<true, true>(param, velocity, grad, n, c);
  else
    sgd_loop<true, false>(param, velocity, grad, n, c);
}

void adam(float* param, float* m, float* v, const float* grad, std::int64_t n, const AdamCoefficients& c) {
  const V b1 = V::set1(c.beta1), b2 = V::set1(c.beta2);
  const V one_b1 = V::set1(1.0f - c.beta1), one_b2 = V::set1(1.0f - c.beta2);
  const V l2 = V::set1(c.l2), decay = V::set1(c.decay), step = V::set1(c.step_size);
  const V inv_bias2 = V::set1(c.inv_sqrt_bias2), eps = V::set1(c.eps);
  for (std::int64_t i = 0; i < n; i += V::kLanes) {
    const std::int64_t r = std::min<std::int64_t>(V::kLanes, n - i);
    V p = load(param + i, r);
    V g = fmadd(l2, p, load(grad + i, r));
    V mi = fmadd(b1, load(m + i, r), one_b1 * g);
    V vi = fmadd(b2, load(v + i, r), one_b2 * g * g);
    store(mi, m + i, r);
    store(vi, v + i, r);
    V denom = fmadd(sqrt(vi), inv_bias2, eps);
    store(fnmadd(step, mi / denom, p * decay), param + i, r);
  }
}

// The velocity and centered choices are template parameters, as in sgd_loop.
template <bool kVelocity, bool kCentered>
void rmsprop_loop(float* param, float* v, float* velocity, float* mean_grad, const float* grad, std::int64_t n,
                  const RmspropCoefficients& c) {
  const V lr = V::set1(c.lr), rho = V::set1(c.rho), one_rho = V::set1(1.0f - c.rho);
  const V eps = V::set1(c.eps), mu = V::set1(c.momentum), zero = V::set1(0.0f);
  for (std::int64_t i = 0; i < n; i += V::kLanes) {
    const std::int64_t r = std::min<std::int64_t>(V::kLanes, n - i);
    V g = load(grad + i, r);
    V vi = fmadd(rho, load(v + i, r), one_rho * g * g);
    store(vi, v + i, r);
    V spread = vi;
    if constexpr (kCentered) {
      V mg = fmadd(rho, load(mean_grad + i, r), one_rho * g);
      store(mg, mean_grad + i, r);
      spread = max(fnmadd(mg, mg, vi), zero);  // rounding may leave v - mg^2 just below 0
    }
    V increment = lr * g / (sqrt(spread) + eps);
    if constexpr (kVelocity) {
      increment = fmadd(mu, load(velocity + i, r), increment);
      store(increment, velocity + i, r);
    }
    store(load(param + i, r) - increment, param + i, r);
  }
}

void rmsprop(float* param, float* v, float* velocity, float* mean_grad, const float* grad, std::int64_t n,
             const RmspropCoefficients& c) {
  if (velocity == nullptr && mean_grad == nullptr)
    rmsprop_loop<false, false>(param, v, velocity, mean_grad, grad, n, c);
  else if (velocity == nullptr)
    rmsprop_loop<false, true>(param, v, velocity, mean_grad, grad, n, c);
  else if (mean_grad == nullptr)
    rmsprop_loop<true, false>(param, v, velocity, mean_grad, grad, n, c);
  else
    rmsprop_loop<true, true>(param, v, velocity, mean_grad, grad, n, c);
}

}  // namespace

extern const OptimKernels optim_kernels = {sgd, adam, rmsprop};

}  // namespace ranvier::cpu::RANVIER_ISA_NS

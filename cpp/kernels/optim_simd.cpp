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

// max(a, b) that keeps a NaN from either side (Vec's max keeps only b's).
V max_keeping_nan(V a, V b) { return select(a == a, max(a, b), a); }

// sign(x): -1, 0 or 1, and NaN for NaN (x itself where it is 0 or NaN).
V sign_keeping_nan(V x) { return select(x > V::zero(), V::set1(1.0f), select(x < V::zero(), V::set1(-1.0f), x)); }

// AMSGrad is a template parameter, as the choices of sgd_loop.
template <bool kAmsgrad>
void adam_loop(float* param, float* m, float* v, float* v_hat, const float* grad, std::int64_t n,
               const AdamCoefficients& c) {
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
    if constexpr (kAmsgrad) {
      vi = max_keeping_nan(load(v_hat + i, r), vi);
      store(vi, v_hat + i, r);
    }
    V denom = fmadd(sqrt(vi), inv_bias2, eps);
    store(fnmadd(step, mi / denom, p * decay), param + i, r);
  }
}

void adam(float* param, float* m, float* v, float* v_hat, const float* grad, std::int64_t n,
          const AdamCoefficients& c) {
  if (v_hat == nullptr)
    adam_loop<false>(param, m, v, v_hat, grad, n, c);
  else
    adam_loop<true>(param, m, v, v_hat, grad, n, c);
}

void nadam(float* param, float* m, float* v, const float* grad, std::int64_t n, const NadamCoefficients& c) {
  const V b1 = V::set1(c.beta1), b2 = V::set1(c.beta2);
  const V one_b1 = V::set1(1.0f - c.beta1), one_b2 = V::set1(1.0f - c.beta2);
  const V decay = V::set1(c.decay), lr = V::set1(c.lr), coef_m = V::set1(c.coef_m), coef_g = V::set1(c.coef_g);
  const V inv_bias2 = V::set1(c.inv_sqrt_bias2), eps = V::set1(c.eps);
  for (std::int64_t i = 0; i < n; i += V::kLanes) {
    const std::int64_t r = std::min<std::int64_t>(V::kLanes, n - i);
    V g = load(grad + i, r);
    V mi = fmadd(b1, load(m + i, r), one_b1 * g);
    V vi = fmadd(b2, load(v + i, r), one_b2 * g * g);
    store(mi, m + i, r);
    store(vi, v + i, r);
    V m_hat = fmadd(coef_m, mi, coef_g * g);
    V denom = fmadd(sqrt(vi), inv_bias2, eps);
    store(fnmadd(lr, m_hat / denom, load(param + i, r) * decay), param + i, r);
  }
}

void adagrad(float* param, float* accumulator, const float* grad, std::int64_t n, const AdagradCoefficients& c) {
  const V lr = V::set1(c.lr), eps = V::set1(c.eps), decay = V::set1(c.decay);
  for (std::int64_t i = 0; i < n; i += V::kLanes) {
    const std::int64_t r = std::min<std::int64_t>(V::kLanes, n - i);
    V g = load(grad + i, r);
    V acc = fmadd(g, g, load(accumulator + i, r));
    store(acc, accumulator + i, r);
    store(fnmadd(lr, g / sqrt(acc + eps), load(param + i, r) * decay), param + i, r);
  }
}

void adamax(float* param, float* m, float* u, const float* grad, std::int64_t n, const AdamaxCoefficients& c) {
  const V b1 = V::set1(c.beta1), b2 = V::set1(c.beta2), one_b1 = V::set1(1.0f - c.beta1);
  const V decay = V::set1(c.decay), step = V::set1(c.step_size), eps = V::set1(c.eps);
  for (std::int64_t i = 0; i < n; i += V::kLanes) {
    const std::int64_t r = std::min<std::int64_t>(V::kLanes, n - i);
    V g = load(grad + i, r);
    V mi = fmadd(b1, load(m + i, r), one_b1 * g);
    V ui = max_keeping_nan(b2 * load(u + i, r), abs(g));
    store(mi, m + i, r);
    store(ui, u + i, r);
    store(fnmadd(step, mi / (ui + eps), load(param + i, r) * decay), param + i, r);
  }
}

void lion(float* param, float* m, const float* grad, std::int64_t n, const LionCoefficients& c) {
  const V b1 = V::set1(c.beta1), b2 = V::set1(c.beta2);
  const V one_b1 = V::set1(1.0f - c.beta1), one_b2 = V::set1(1.0f - c.beta2);
  const V lr = V::set1(c.lr), decay = V::set1(c.decay);
  for (std::int64_t i = 0; i < n; i += V::kLanes) {
    const std::int64_t r = std::min<std::int64_t>(V::kLanes, n - i);
    V g = load(grad + i, r);
    V mi = load(m + i, r);
    V direction = sign_keeping_nan(fmadd(b1, mi, one_b1 * g));
    store(fnmadd(lr, direction, load(param + i, r) * decay), param + i, r);
    store(fmadd(b2, mi, one_b2 * g), m + i, r);
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

extern const OptimKernels optim_kernels = {sgd, adam, rmsprop, nadam, adagrad, adamax, lion};

}  // namespace ranvier::cpu::RANVIER_ISA_NS

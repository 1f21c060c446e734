// Optimizer updates: one fused pass over the parameters, in place.
#pragma once

#include <cmath>
#include <cstdint>

namespace ranvier {

// The per-step scalars of Adam, worked out once on the host (in double) so the
// element loop (CPU or GPU) does no pow/sqrt of its own.
struct AdamCoefficients {
  float beta1, beta2;
  float l2;              // added to the gradient times param (0 for AdamW)
  float decay;           // param multiplier before the step (1 - lr*wd for AdamW, else 1)
  float step_size;       // lr / (1 - beta1^t)
  float inv_sqrt_bias2;  // 1 / sqrt(1 - beta2^t)
  float eps;

  static AdamCoefficients for_step(std::int64_t step, float lr, float beta1, float beta2, float eps, float weight_decay,
                                   bool decoupled) {
    const double t = static_cast<double>(step);
    AdamCoefficients c;
    c.beta1 = beta1;
    c.beta2 = beta2;
    c.l2 = decoupled ? 0.0f : weight_decay;
    c.decay = decoupled ? static_cast<float>(1.0 - static_cast<double>(lr) * weight_decay) : 1.0f;
    c.step_size = static_cast<float>(lr / (1.0 - std::pow(static_cast<double>(beta1), t)));
    c.inv_sqrt_bias2 = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(static_cast<double>(beta2), t)));
    c.eps = eps;
    return c;
  }
};

namespace cpu {

// param (n,), velocity (n,) or null, grad (n,); PyTorch's SGD (dampening 0):
//   g = grad + weight_decay * param
//   v = momentum * v + g                     (when velocity is not null)
//   update = nesterov ? g + momentum * v : v (or g without velocity)
//   param -= lr * update
void sgd_update(float* param, float* velocity, const float* grad, std::int64_t n, float lr, float momentum,
                bool nesterov, float weight_decay);

// param (n,), m (n,), v (n,), grad (n,); Adam (Kingma & Ba, Algorithm 1, as
// PyTorch computes it), step t >= 1 counts this update:
//   g = grad + weight_decay * param           (decoupled == false: L2)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   param *= 1 - lr * weight_decay            (decoupled == true: AdamW)
//   param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
void adam_update(float* param, float* m, float* v, const float* grad, std::int64_t n, std::int64_t step, float lr,
                 float beta1, float beta2, float eps, float weight_decay, bool decoupled);

// param (n,), v (n,), velocity (n,) or null, mean_grad (n,) or null, grad (n,);
// RMSprop with Keras' options, epsilon added to the root as PyTorch does:
//   v = rho * v + (1 - rho) * g^2
//   mean_grad = rho * mean_grad + (1 - rho) * g     (centered, when not null)
//   denom = sqrt(max(v - mean_grad^2, 0)) + eps      (sqrt(v) + eps uncentered)
//   increment = lr * g / denom
//   velocity = momentum * velocity + increment; param -= velocity  (when not null)
//   param -= increment                                              (otherwise)
void rmsprop_update(float* param, float* v, float* velocity, float* mean_grad, const float* grad, std::int64_t n,
                    float lr, float rho, float eps, float momentum);

}  // namespace cpu
}  // namespace ranvier

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

// Nadam's per-step scalars (Keras 3: Dozat's momentum schedule u_t = beta1 (1 - 0.5 * 0.96^t)),
// so the element loop computes m_hat = coef_m * m + coef_g * g.
struct NadamCoefficients {
  float beta1, beta2;
  float decay;  // 1 - lr * weight_decay (decoupled, before the step)
  float lr;
  float coef_m;          // u_{t+1} / (1 - u_product * u_{t+1})
  float coef_g;          // (1 - u_t) / (1 - u_product)
  float inv_sqrt_bias2;  // 1 / sqrt(1 - beta2^t)
  float eps;

  // u_product: u_1 * ... * u_t (the optimizer keeps it, as Keras does).
  static NadamCoefficients for_step(std::int64_t step, double u_product, float lr, float beta1, float beta2, float eps,
                                    float weight_decay) {
    const double t = static_cast<double>(step), b1 = beta1;
    const double u_t = b1 * (1.0 - 0.5 * std::pow(0.96, t));
    const double u_next = b1 * (1.0 - 0.5 * std::pow(0.96, t + 1.0));
    NadamCoefficients c;
    c.beta1 = beta1;
    c.beta2 = beta2;
    c.decay = static_cast<float>(1.0 - static_cast<double>(lr) * weight_decay);
    c.lr = lr;
    c.coef_m = static_cast<float>(u_next / (1.0 - u_product * u_next));
    c.coef_g = static_cast<float>((1.0 - u_t) / (1.0 - u_product));
    c.inv_sqrt_bias2 = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(static_cast<double>(beta2), t)));
    c.eps = eps;
    return c;
  }
};

// Adamax's per-step scalars (Keras 3).
struct AdamaxCoefficients {
  float beta1, beta2;
  float decay;      // 1 - lr * weight_decay
  float step_size;  // lr / (1 - beta1^t)
  float eps;

  static AdamaxCoefficients for_step(std::int64_t step, float lr, float beta1, float beta2, float eps,
                                     float weight_decay) {
    AdamaxCoefficients c;
    c.beta1 = beta1;
    c.beta2 = beta2;
    c.decay = static_cast<float>(1.0 - static_cast<double>(lr) * weight_decay);
    c.step_size = static_cast<float>(lr / (1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(step))));
    c.eps = eps;
    return c;
  }
};

// Adagrad's and Lion's scalars: no step dependence.
struct AdagradCoefficients {
  float lr, eps, decay;
};

struct LionCoefficients {
  float lr, beta1, beta2, decay;
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
//   v_hat = max(v_hat, v); v = v_hat       (AMSGrad, when v_hat is not null)
//   param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
void adam_update(float* param, float* m, float* v, float* v_hat, const float* grad, std::int64_t n, std::int64_t step,
                 float lr, float beta1, float beta2, float eps, float weight_decay, bool decoupled);

// The Keras 3 optimizers below all take decoupled weight decay first: param *= 1 - lr * weight_decay.

// param, m, v, grad (n,); Nadam:
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   param -= lr * (coef_m m + coef_g g) / (sqrt(v / (1 - beta2^t)) + eps)   (NadamCoefficients)
void nadam_update(float* param, float* m, float* v, const float* grad, std::int64_t n, const NadamCoefficients& c);

// param, accumulator, grad (n,); Adagrad: acc += g^2;  param -= lr g / sqrt(acc + eps)
void adagrad_update(float* param, float* accumulator, const float* grad, std::int64_t n, const AdagradCoefficients& c);

// param, m, u, grad (n,); Adamax:
//   m = beta1 m + (1 - beta1) g;  u = max(beta2 u, |g|);  param -= lr / (1 - beta1^t) * m / (u + eps)
void adamax_update(float* param, float* m, float* u, const float* grad, std::int64_t n, const AdamaxCoefficients& c);

// param, m, grad (n,); Lion:
//   param -= lr sign(beta1 m + (1 - beta1) g);  m = beta2 m + (1 - beta2) g
void lion_update(float* param, float* m, const float* grad, std::int64_t n, const LionCoefficients& c);

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

// Optimizer updates: one fused pass over the parameters, in place.
#pragma once

#include <cstdint>

namespace ranvier::cpu {

// param (n,), velocity (n,) or null, grad (n,); PyTorch's SGD (dampening 0):
//   g = grad + weight_decay * param
//   v = momentum * v + g                     (when velocity is not null)
//   update = nesterov ? g + momentum * v : v (or g without velocity)
//   param -= lr * update
void sgd_update(float* param, float* velocity, const float* grad, std::int64_t n, float lr,
                float momentum, bool nesterov, float weight_decay);

// param (n,), m (n,), v (n,), grad (n,); Adam (Kingma & Ba, Algorithm 1, as
// PyTorch computes it), step t >= 1 counts this update:
//   g = grad + weight_decay * param           (decoupled == false: L2)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   param *= 1 - lr * weight_decay            (decoupled == true: AdamW)
//   param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
void adam_update(float* param, float* m, float* v, const float* grad, std::int64_t n,
                 std::int64_t step, float lr, float beta1, float beta2, float eps,
                 float weight_decay, bool decoupled);

}  // namespace ranvier::cpu

// Optimizer updates: one thread per element, each read and written once; the
// per-call scalars (bias corrections in double) come from
// AdamCoefficients::for_step, shared with the CPU.
#include "ranvier/optim.h"
#include "ranvier_cuda/launch.cuh"
#include "ranvier_cuda/optim.h"

namespace ranvier::cuda {

namespace {

// param, velocity (n) or null, grad (n). The velocity and Nesterov choices
// are template parameters, so the loop carries no branch per element.
template <bool kVelocity, bool kNesterov>
__global__ void sgd_kernel(float* param, float* velocity, const float* grad, std::int64_t n, float lr, float momentum,
                           float weight_decay) {
  for (std::int64_t i = grid_start<std::int64_t>(); i < n; i += grid_stride<std::int64_t>()) {
    const float p = param[i];
    const float g = fmaf(weight_decay, p, grad[i]);
    float update = g;
    if (kVelocity) {
      const float vel = fmaf(momentum, velocity[i], g);
      velocity[i] = vel;
      update = kNesterov ? fmaf(momentum, vel, g) : vel;
    }
    param[i] = fmaf(-lr, update, p);
  }
}

// param, m, v, grad (n)
__global__ void adam_kernel(float* param, float* m, float* v, const float* grad, std::int64_t n, AdamCoefficients c) {
  const float one_b1 = 1.0f - c.beta1, one_b2 = 1.0f - c.beta2;
  for (std::int64_t i = grid_start<std::int64_t>(); i < n; i += grid_stride<std::int64_t>()) {
    const float p = param[i];
    const float g = fmaf(c.l2, p, grad[i]);
    const float mi = fmaf(c.beta1, m[i], one_b1 * g);
    const float vi = fmaf(c.beta2, v[i], one_b2 * g * g);
    m[i] = mi;
    v[i] = vi;
    const float denom = fmaf(sqrtf(vi), c.inv_sqrt_bias2, c.eps);
    param[i] = fmaf(-c.step_size, mi / denom, p * c.decay);
  }
}

// param, v, velocity (or null), mean_grad (or null), grad (n); the velocity
// and centered choices are template parameters, as in sgd_kernel.
template <bool kVelocity, bool kCentered>
__global__ void rmsprop_kernel(float* param, float* v, float* velocity, float* mean_grad, const float* grad,
                               std::int64_t n, float lr, float rho, float eps, float momentum) {
  const float one_rho = 1.0f - rho;
  for (std::int64_t i = grid_start<std::int64_t>(); i < n; i += grid_stride<std::int64_t>()) {
    const float g = grad[i];
    const float vi = fmaf(rho, v[i], one_rho * g * g);
    v[i] = vi;
    float spread = vi;
    if (kCentered) {
      const float mg = fmaf(rho, mean_grad[i], one_rho * g);
      mean_grad[i] = mg;
      spread = fmaxf(fmaf(-mg, mg, vi), 0.0f);  // rounding may leave v - mg^2 just below 0
    }
    float increment = lr * g / (sqrtf(spread) + eps);
    if (kVelocity) {
      increment = fmaf(momentum, velocity[i], increment);
      velocity[i] = increment;
    }
    param[i] -= increment;
  }
}

template <bool kVelocity, bool kCentered>
void launch_rmsprop(float* param, float* v, float* velocity, float* mean_grad, const float* grad, std::int64_t n,
                    float lr, float rho, float eps, float momentum, cudaStream_t stream) {
  rmsprop_kernel<kVelocity, kCentered>
      <<<grid_for(n), kBlock, 0, stream>>>(param, v, velocity, mean_grad, grad, n, lr, rho, eps, momentum);
}

}  // namespace

cudaError_t sgd_update(float* param, float* velocity, const float* grad, std::int64_t n, float lr, float momentum,
                       bool nesterov, float weight_decay, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  const unsigned blocks = grid_for(n);
  if (velocity == nullptr) {
    sgd_kernel<false, false><<<blocks, kBlock, 0, stream>>>(param, velocity, grad, n, lr, momentum, weight_decay);
  } else if (nesterov) {
    sgd_kernel<true, true><<<blocks, kBlock, 0, stream>>>(param, velocity, grad, n, lr, momentum, weight_decay);
  } else {
    sgd_kernel<true, false><<<blocks, kBlock, 0, stream>>>(param, velocity, grad, n, lr, momentum, weight_decay);
  }
  return cudaGetLastError();
}

cudaError_t adam_update(float* param, float* m, float* v, const float* grad, std::int64_t n, std::int64_t step,
                        float lr, float beta1, float beta2, float eps, float weight_decay, bool decoupled,
                        cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  const AdamCoefficients c = AdamCoefficients::for_step(step, lr, beta1, beta2, eps, weight_decay, decoupled);
  adam_kernel<<<grid_for(n), kBlock, 0, stream>>>(param, m, v, grad, n, c);
  return cudaGetLastError();
}

cudaError_t rmsprop_update(float* param, float* v, float* velocity, float* mean_grad, const float* grad, std::int64_t n,
                           float lr, float rho, float eps, float momentum, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  if (velocity == nullptr && mean_grad == nullptr)
    launch_rmsprop<false, false>(param, v, velocity, mean_grad, grad, n, lr, rho, eps, momentum, stream);
  else if (velocity == nullptr)
    launch_rmsprop<false, true>(param, v, velocity, mean_grad, grad, n, lr, rho, eps, momentum, stream);
  else if (mean_grad == nullptr)
    launch_rmsprop<true, false>(param, v, velocity, mean_grad, grad, n, lr, rho, eps, momentum, stream);
  else
    launch_rmsprop<true, true>(param, v, velocity, mean_grad, grad, n, lr, rho, eps, momentum, stream);
  return cudaGetLastError();
}

}  // namespace ranvier::cuda

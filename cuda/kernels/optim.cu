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

// max(a, b) that keeps a NaN from either side.
__device__ float max_keeping_nan(float a, float b) { return (a != a || b != b) ? a + b : fmaxf(a, b); }

// sign(x): -1, 0 or 1, NaN for NaN.
__device__ float sign_keeping_nan(float x) { return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x); }

// param, m, v, v_hat (n) or null (AMSGrad: a template parameter), grad (n)
template <bool kAmsgrad>
__global__ void adam_kernel(float* param, float* m, float* v, float* v_hat, const float* grad, std::int64_t n,
                            AdamCoefficients c) {
  const float one_b1 = 1.0f - c.beta1, one_b2 = 1.0f - c.beta2;
  for (std::int64_t i = grid_start<std::int64_t>(); i < n; i += grid_stride<std::int64_t>()) {
    const float p = param[i];
    const float g = fmaf(c.l2, p, grad[i]);
    const float mi = fmaf(c.beta1, m[i], one_b1 * g);
    const float vi = fmaf(c.beta2, v[i], one_b2 * g * g);
    m[i] = mi;
    v[i] = vi;
    float second = vi;
    if (kAmsgrad) {
      second = max_keeping_nan(v_hat[i], vi);
      v_hat[i] = second;
    }
    const float denom = fmaf(sqrtf(second), c.inv_sqrt_bias2, c.eps);
    param[i] = fmaf(-c.step_size, mi / denom, p * c.decay);
  }
}

__global__ void nadam_kernel(float* param, float* m, float* v, const float* grad, std::int64_t n, NadamCoefficients c) {
  const float one_b1 = 1.0f - c.beta1, one_b2 = 1.0f - c.beta2;
  for (std::int64_t i = grid_start<std::int64_t>(); i < n; i += grid_stride<std::int64_t>()) {
    const float g = grad[i];
    const float mi = fmaf(c.beta1, m[i], one_b1 * g);
    const float vi = fmaf(c.beta2, v[i], one_b2 * g * g);
    m[i] = mi;
    v[i] = vi;
    const float m_hat = fmaf(c.coef_m, mi, c.coef_g * g);
    const float denom = fmaf(sqrtf(vi), c.inv_sqrt_bias2, c.eps);
    param[i] = fmaf(-c.lr, m_hat / denom, param[i] * c.decay);
  }
}

__global__ void adagrad_kernel(float* param, float* accumulator, const float* grad, std::int64_t n,
                               AdagradCoefficients c) {
  for (std::int64_t i = grid_start<std::int64_t>(); i < n; i += grid_stride<std::int64_t>()) {
    const float g = grad[i];
    const float acc = fmaf(g, g, accumulator[i]);
    accumulator[i] = acc;
    param[i] = fmaf(-c.lr, g / sqrtf(acc + c.eps), param[i] * c.decay);
  }
}

__global__ void adamax_kernel(float* param, float* m, float* u, const float* grad, std::int64_t n,
                              AdamaxCoefficients c) {
  const float one_b1 = 1.0f - c.beta1;
  for (std::int64_t i = grid_start<std::int64_t>(); i < n; i += grid_stride<std::int64_t>()) {
    const float g = grad[i];
    const float mi = fmaf(c.beta1, m[i], one_b1 * g);
    const float ui = max_keeping_nan(c.beta2 * u[i], fabsf(g));
    m[i] = mi;
    u[i] = ui;
    param[i] = fmaf(-c.step_size, mi / (ui + c.eps), param[i] * c.decay);
  }
}

__global__ void lion_kernel(float* param, float* m, const float* grad, std::int64_t n, LionCoefficients c) {
  const float one_b1 = 1.0f - c.beta1, one_b2 = 1.0f - c.beta2;
  for (std::int64_t i = grid_start<std::int64_t>(); i < n; i += grid_stride<std::int64_t>()) {
    const float g = grad[i], mi = m[i];
    param[i] = fmaf(-c.lr, sign_keeping_nan(fmaf(c.beta1, mi, one_b1 * g)), param[i] * c.decay);
    m[i] = fmaf(c.beta2, mi, one_b2 * g);
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

cudaError_t adam_update(float* param, float* m, float* v, float* v_hat, const float* grad, std::int64_t n,
                        std::int64_t step, float lr, float beta1, float beta2, float eps, float weight_decay,
                        bool decoupled, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  const AdamCoefficients c = AdamCoefficients::for_step(step, lr, beta1, beta2, eps, weight_decay, decoupled);
  if (v_hat == nullptr)
    adam_kernel<false><<<grid_for(n), kBlock, 0, stream>>>(param, m, v, v_hat, grad, n, c);
  else
    adam_kernel<true><<<grid_for(n), kBlock, 0, stream>>>(param, m, v, v_hat, grad, n, c);
  return cudaGetLastError();
}

cudaError_t nadam_update(float* param, float* m, float* v, const float* grad, std::int64_t n,
                         const NadamCoefficients& c, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  nadam_kernel<<<grid_for(n), kBlock, 0, stream>>>(param, m, v, grad, n, c);
  return cudaGetLastError();
}

cudaError_t adagrad_update(float* param, float* accumulator, const float* grad, std::int64_t n,
                           const AdagradCoefficients& c, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  adagrad_kernel<<<grid_for(n), kBlock, 0, stream>>>(param, accumulator, grad, n, c);
  return cudaGetLastError();
}

cudaError_t adamax_update(float* param, float* m, float* u, const float* grad, std::int64_t n,
                          const AdamaxCoefficients& c, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  adamax_kernel<<<grid_for(n), kBlock, 0, stream>>>(param, m, u, grad, n, c);
  return cudaGetLastError();
}

cudaError_t lion_update(float* param, float* m, const float* grad, std::int64_t n, const LionCoefficients& c,
                        cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  lion_kernel<<<grid_for(n), kBlock, 0, stream>>>(param, m, grad, n, c);
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

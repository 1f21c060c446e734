// Optimizer updates: one thread per element, each read and written once; the
// per-call scalars (bias corrections in double) are prepared on the host as
// in cpp/kernels/optim.cpp.
#include <cmath>

#include "ranvier_cuda/optim.h"

namespace ranvier::cuda {

namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 1 << 16;

unsigned blocks_for(std::int64_t n) {
  const std::int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

struct AdamCoefficients {
  float beta1, beta2;
  float l2;              // added to the gradient times param (0 for AdamW)
  float decay;           // param multiplier before the step (1 - lr*wd for AdamW, else 1)
  float step_size;       // lr / (1 - beta1^t)
  float inv_sqrt_bias2;  // 1 / sqrt(1 - beta2^t)
  float eps;
};

// param, velocity (n) or null, grad (n). The velocity and Nesterov choices
// are template parameters, so the loop carries no branch per element.
template <bool kVelocity, bool kNesterov>
__global__ void sgd_kernel(float* param, float* velocity, const float* grad, std::int64_t n,
                           float lr, float momentum, float weight_decay) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
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
__global__ void adam_kernel(float* param, float* m, float* v, const float* grad, std::int64_t n,
                            AdamCoefficients c) {
  const float one_b1 = 1.0f - c.beta1, one_b2 = 1.0f - c.beta2;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
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

}  // namespace

cudaError_t sgd_update(float* param, float* velocity, const float* grad, std::int64_t n, float lr,
                       float momentum, bool nesterov, float weight_decay, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  const unsigned blocks = blocks_for(n);
  if (velocity == nullptr) {
    sgd_kernel<false, false><<<blocks, kThreads, 0, stream>>>(param, velocity, grad, n, lr,
                                                              momentum, weight_decay);
  } else if (nesterov) {
    sgd_kernel<true, true><<<blocks, kThreads, 0, stream>>>(param, velocity, grad, n, lr, momentum,
                                                            weight_decay);
  } else {
    sgd_kernel<true, false><<<blocks, kThreads, 0, stream>>>(param, velocity, grad, n, lr,
                                                             momentum, weight_decay);
  }
  return cudaGetLastError();
}

cudaError_t adam_update(float* param, float* m, float* v, const float* grad, std::int64_t n,
                        std::int64_t step, float lr, float beta1, float beta2, float eps,
                        float weight_decay, bool decoupled, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  const double t = static_cast<double>(step);
  const double bias1 = 1.0 - std::pow(static_cast<double>(beta1), t);
  const double bias2 = 1.0 - std::pow(static_cast<double>(beta2), t);
  AdamCoefficients c;
  c.beta1 = beta1;
  c.beta2 = beta2;
  c.l2 = decoupled ? 0.0f : weight_decay;
  c.decay = decoupled ? static_cast<float>(1.0 - static_cast<double>(lr) * weight_decay) : 1.0f;
  c.step_size = static_cast<float>(lr / bias1);
  c.inv_sqrt_bias2 = static_cast<float>(1.0 / std::sqrt(bias2));
  c.eps = eps;
  adam_kernel<<<blocks_for(n), kThreads, 0, stream>>>(param, m, v, grad, n, c);
  return cudaGetLastError();
}

}  // namespace ranvier::cuda

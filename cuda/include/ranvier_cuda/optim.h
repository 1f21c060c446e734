// Optimizer updates on the GPU: one fused pass over the parameters, in place;
// the same formulas as ranvier/optim.h (ranvier::cpu), plus the stream.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ranvier/optim.h"

namespace ranvier::cuda {

// param (n,), velocity (n,) or null, grad (n,); PyTorch's SGD (dampening 0):
//   g = grad + weight_decay * param
//   v = momentum * v + g                     (when velocity is not null)
//   update = nesterov ? g + momentum * v : v (or g without velocity)
//   param -= lr * update
cudaError_t sgd_update(float* param, float* velocity, const float* grad, std::int64_t n, float lr, float momentum,
                       bool nesterov, float weight_decay, cudaStream_t stream);

// param (n,), m (n,), v (n,), grad (n,); Adam as PyTorch computes it, step
// t >= 1 counts this update (decoupled: AdamW; v_hat not null: AMSGrad). See ranvier/optim.h.
cudaError_t adam_update(float* param, float* m, float* v, float* v_hat, const float* grad, std::int64_t n,
                        std::int64_t step, float lr, float beta1, float beta2, float eps, float weight_decay,
                        bool decoupled, cudaStream_t stream);

// Nadam, Adagrad, Adamax and Lion (Keras 3), with the coefficients of ranvier/optim.h.
cudaError_t nadam_update(float* param, float* m, float* v, const float* grad, std::int64_t n,
                         const NadamCoefficients& c, cudaStream_t stream);
cudaError_t adagrad_update(float* param, float* accumulator, const float* grad, std::int64_t n,
                           const AdagradCoefficients& c, cudaStream_t stream);
cudaError_t adamax_update(float* param, float* m, float* u, const float* grad, std::int64_t n,
                          const AdamaxCoefficients& c, cudaStream_t stream);
cudaError_t lion_update(float* param, float* m, const float* grad, std::int64_t n, const LionCoefficients& c,
                        cudaStream_t stream);

// param, v (n,), velocity and mean_grad (n,) or null, grad (n,); RMSprop,
// centered when mean_grad is not null. See ranvier/optim.h.
cudaError_t rmsprop_update(float* param, float* v, float* velocity, float* mean_grad, const float* grad, std::int64_t n,
                           float lr, float rho, float eps, float momentum, cudaStream_t stream);

}  // namespace ranvier::cuda

// Element-wise activations and their derivatives on the GPU: the same
// operations as ranvier/activation.h (ranvier::cpu), plus the stream.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ranvier/activation.h"

namespace ranvier::cuda {

// x (n) -> y (n). y may alias x.
cudaError_t activation_forward(Activation act, const ActivationParams& p, float* y, const float* x, std::int64_t n,
                               cudaStream_t stream);

// dy (n), saved (n) -> dx (n), where saved is x where derivative_needs_input
// and y otherwise. dx may alias dy.
cudaError_t activation_backward(Activation act, const ActivationParams& p, float* dx, const float* dy,
                                const float* saved, std::int64_t n, cudaStream_t stream);

}  // namespace ranvier::cuda

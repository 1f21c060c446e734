// Element-wise activations and their derivatives: one thread per element,
// grid-strided so that any n fits in a bounded grid.
#include "ranvier_cuda/activation.h"
#include "ranvier_cuda/activation_math.cuh"
#include "ranvier_cuda/launch.cuh"

namespace ranvier::cuda {

namespace {

// x (n) -> y (n)
__global__ void activation_forward_kernel(float* y, const float* x, std::int64_t n, Activation act,
                                          ActivationParams p) {
  for (std::int64_t i = grid_start<std::int64_t>(); i < n; i += grid_stride<std::int64_t>())
    y[i] = activate(act, x[i], p);
}

// dy (n), saved (n) -> dx (n)
__global__ void activation_backward_kernel(float* dx, const float* dy, const float* saved, std::int64_t n,
                                           Activation act, ActivationParams p) {
  for (std::int64_t i = grid_start<std::int64_t>(); i < n; i += grid_stride<std::int64_t>())
    dx[i] = activate_backward(act, dy[i], saved[i], p);
}

}  // namespace

cudaError_t activation_forward(Activation act, const ActivationParams& p, float* y, const float* x, std::int64_t n,
                               cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  activation_forward_kernel<<<grid_for(n), kBlock, 0, stream>>>(y, x, n, act, p);
  return cudaGetLastError();
}

cudaError_t activation_backward(Activation act, const ActivationParams& p, float* dx, const float* dy,
                                const float* saved, std::int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  activation_backward_kernel<<<grid_for(n), kBlock, 0, stream>>>(dx, dy, saved, n, act, p);
  return cudaGetLastError();
}

}  // namespace ranvier::cuda

// One activation (or its derivative) applied to one value on the device;
// shared by the element-wise kernels and the GEMM epilogue. The formulas are
// those of cpp/kernels/activation_apply.h.
#pragma once

#include "ranvier/activation.h"

namespace ranvier::cuda {

// Standard normal density phi(x) = exp(-x^2/2) / sqrt(2 pi).
__device__ __forceinline__ float normal_density(float x) { return 0.3989422804014327f * expf(-0.5f * x * x); }

// x clamped to [-20, 20], NaN kept (fminf/fmaxf would drop it): the factor x
// of GELU's formulas, so that x = -inf gives the limit 0 instead of -inf * 0.
__device__ __forceinline__ float clamp_tail(float x) { return x < -20.0f ? -20.0f : (x > 20.0f ? 20.0f : x); }

// relu's derivative from its output: 1 where y > 0, 0 where y <= 0, NaN where y is.
__device__ __forceinline__ float relu_step(float y) { return y > 0.0f ? 1.0f : (y <= 0.0f ? 0.0f : y); }

__device__ __forceinline__ float activate(Activation act, float x) {
  switch (act) {
    case Activation::relu:
      return x < 0.0f ? 0.0f : x;  // NaN stays NaN
    case Activation::sigmoid:
      return 1.0f / (1.0f + expf(-x));
    case Activation::tanh:
      return tanhf(x);
    case Activation::gelu:
      return fmaxf(x, -20.0f) * normcdff(x);  // exact: x * Phi(x); normcdff keeps a NaN
    default:
      return x;
  }
}

// dL/dx from dL/dy; `saved` is y (relu, sigmoid, tanh) or x (gelu).
__device__ __forceinline__ float activate_backward(Activation act, float dy, float saved) {
  switch (act) {
    case Activation::relu:
      return dy * relu_step(saved);
    case Activation::sigmoid:
      return dy * saved * (1.0f - saved);
    case Activation::tanh:
      return dy * (1.0f - saved * saved);
    case Activation::gelu:
      return dy * (normcdff(saved) + clamp_tail(saved) * normal_density(saved));
    default:
      return dy;
  }
}

}  // namespace ranvier::cuda

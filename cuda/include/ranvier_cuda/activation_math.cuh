// One activation (or its derivative) applied to one value on the device;
// shared by the element-wise kernels and the GEMM epilogue. The formulas are
// those of cpp/kernels/activation_apply.h.
#pragma once

#include "ranvier/activation.h"

namespace ranvier::cuda {

// Standard normal density phi(x) = exp(-x^2/2) / sqrt(2 pi).
__device__ __forceinline__ float normal_density(float x) { return 0.3989422804014327f * expf(-0.5f * x * x); }

__device__ __forceinline__ float activate(Activation act, float x) {
  switch (act) {
    case Activation::relu:
      return x > 0.0f ? x : 0.0f;
    case Activation::sigmoid:
      return 1.0f / (1.0f + expf(-x));
    case Activation::tanh:
      return tanhf(x);
    case Activation::gelu:
      return x * normcdff(x);  // exact: x * Phi(x)
    default:
      return x;
  }
}

// dL/dx from dL/dy; `saved` is y (relu, sigmoid, tanh) or x (gelu).
__device__ __forceinline__ float activate_backward(Activation act, float dy, float saved) {
  switch (act) {
    case Activation::relu:
      return saved > 0.0f ? dy : 0.0f;
    case Activation::sigmoid:
      return dy * saved * (1.0f - saved);
    case Activation::tanh:
      return dy * (1.0f - saved * saved);
    case Activation::gelu:
      return dy * (normcdff(saved) + saved * normal_density(saved));
    default:
      return dy;
  }
}

}  // namespace ranvier::cuda

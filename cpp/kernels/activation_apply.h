// One activation (or its derivative) applied to one vector; shared by the
// element-wise kernels and the GEMM epilogue.
#pragma once

#include "ranvier/activation.h"
#include "simd/vec.h"

namespace ranvier::simd {

template <class V>
inline V activate(Activation act, V x) {
  switch (act) {
    case Activation::relu:
      return max(V::zero(), x);  // x second: NaN stays NaN
    case Activation::sigmoid:
      return sigmoid(x);
    case Activation::tanh:
      return tanh(x);
    case Activation::gelu:
      return gelu(x);
    default:
      return x;
  }
}

// dL/dx from dL/dy; `saved` is y (relu, sigmoid, tanh) or x (gelu).
template <class V>
inline V activate_backward(Activation act, V dy, V saved) {
  V one = V::set1(1.0f);
  switch (act) {
    case Activation::relu:  // dy * step(y): the step is NaN where y is (min/max keep their second operand's NaN)
      return dy * max(select(saved > V::zero(), one, V::zero()), min(V::zero(), saved));
    case Activation::sigmoid:
      return dy * saved * (one - saved);
    case Activation::tanh:
      return dy * fnmadd(saved, saved, one);
    case Activation::gelu:
      return dy * gelu_grad(saved);
    default:
      return dy;
  }
}

}  // namespace ranvier::simd

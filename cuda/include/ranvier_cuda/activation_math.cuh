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

// SELU's constants, as cpp/kernels/activation_apply.h.
constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSeluScaleAlpha = 1.7580993408473768599402175208123f;  // rounded once: selu(-inf) = -this

// v, or x where x is NaN.
__device__ __forceinline__ float keep_nan(float v, float x) { return x == x ? v : x; }

// sigmoid(x) from e^-|x|: no overflow, and no cancellation for x << 0.
__device__ __forceinline__ float sigmoid_exact(float x) {
  const float e = expf(-fabsf(x));
  return x < 0.0f ? e / (1.0f + e) : 1.0f / (1.0f + e);
}

__device__ __forceinline__ float elu(float x, float alpha) { return x > 0.0f ? x : alpha * expm1f(x); }

// Keras' ReLU layer (see relu_general in activation_apply.h).
__device__ __forceinline__ float relu_general(float x, const ActivationParams& p) {
  float y = x > p.threshold ? x : 0.0f;
  if (p.max_value < INFINITY) y = y < 0.0f ? 0.0f : (y > p.max_value ? p.max_value : y);
  if (p.alpha != 0.0f && x < p.threshold) y -= p.alpha * (p.threshold - x);
  return keep_nan(y, x);
}

__device__ __forceinline__ float relu_general_grad(float x, const ActivationParams& p) {
  float d = x > p.threshold ? 1.0f : 0.0f;
  if (p.max_value < INFINITY && (x > p.max_value || x < 0.0f)) d = 0.0f;
  if (x < p.threshold) d += p.alpha;
  return keep_nan(d, x);
}

__device__ __forceinline__ float activate(Activation act, float x, const ActivationParams& p) {
  switch (act) {
    case Activation::relu:
      return x < 0.0f ? 0.0f : x;  // NaN stays NaN
    case Activation::sigmoid:
      return 1.0f / (1.0f + expf(-x));
    case Activation::tanh:
      return tanhf(x);
    case Activation::gelu:
      return fmaxf(x, -20.0f) * normcdff(x);  // exact: x * Phi(x); normcdff keeps a NaN
    case Activation::leaky_relu:              // a slope of 0 is relu: -inf gives 0 (the limit), not -inf * 0
      return x > 0.0f ? x : (p.alpha == 0.0f ? (x < 0.0f ? 0.0f : x) : p.alpha * x);
    case Activation::elu:
      return elu(x, p.alpha);
    case Activation::selu:
      return x > 0.0f ? kSeluScale * x : kSeluScaleAlpha * expm1f(x);
    case Activation::silu:  // x clamped to -100, where sigmoid is 0: -inf gives 0
      return (x < -100.0f ? -100.0f : x) * sigmoid_exact(x);
    case Activation::softplus:  // max(x, 0) + log1p(e^-|x|): never overflows
      return (x < 0.0f ? 0.0f : x) + log1pf(expf(-fabsf(x)));
    case Activation::softsign:
      return isinf(x) ? copysignf(1.0f, x) : x / (1.0f + fabsf(x));
    case Activation::hard_sigmoid: {
      const float y = x * (1.0f / 6) + 0.5f;
      return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
    }
    case Activation::exponential:
      return expf(x);
    case Activation::relu_general:
      return relu_general(x, p);
    default:
      return x;
  }
}

// With Keras' default parameters: what the GEMM/conv epilogues apply.
__device__ __forceinline__ float activate(Activation act, float x) { return activate(act, x, default_params(act)); }

// dL/dx from dL/dy; `saved` is x where derivative_needs_input, else y.
__device__ __forceinline__ float activate_backward(Activation act, float dy, float saved, const ActivationParams& p) {
  switch (act) {
    case Activation::relu:
      return dy * relu_step(saved);
    case Activation::sigmoid:
      return dy * saved * (1.0f - saved);
    case Activation::tanh:
      return dy * (1.0f - saved * saved);
    case Activation::gelu:
      return dy * (normcdff(saved) + clamp_tail(saved) * normal_density(saved));
    case Activation::leaky_relu:
      return dy * keep_nan(saved > 0.0f ? 1.0f : p.alpha, saved);
    case Activation::elu:  // alpha e^x = y + alpha where x <= 0; >= 0 even where y was rounded (NaN kept)
      return dy * (saved > 0.0f ? 1.0f : (saved + p.alpha < 0.0f ? 0.0f : saved + p.alpha));
    case Activation::selu: {
      const float d = saved + kSeluScaleAlpha;
      return dy * (saved > 0.0f ? kSeluScale : (d < 0.0f ? 0.0f : d));
    }
    case Activation::silu: {  // s (1 + x (1 - s)), x clamped where s is 0 or 1
      const float s = sigmoid_exact(saved), one_minus_s = sigmoid_exact(-saved);
      const float xc = saved < -100.0f ? -100.0f : (saved > 100.0f ? 100.0f : saved);
      return dy * s * (1.0f + xc * one_minus_s);
    }
    case Activation::softplus:
      return dy * sigmoid_exact(saved);
    case Activation::softsign: {
      const float r = 1.0f / (1.0f + fabsf(saved));
      return dy * r * r;
    }
    case Activation::hard_sigmoid:
      return dy * keep_nan(saved > 0.0f && saved < 1.0f ? 1.0f / 6 : 0.0f, saved);
    case Activation::exponential:
      return dy * saved;
    case Activation::relu_general:
      return dy * relu_general_grad(saved, p);
    default:
      return dy;
  }
}

__device__ __forceinline__ float activate_backward(Activation act, float dy, float saved) {
  return activate_backward(act, dy, saved, default_params(act));
}

}  // namespace ranvier::cuda

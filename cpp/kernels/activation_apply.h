// One activation (or its derivative) applied to one vector; shared by the
// element-wise kernels and the GEMM/conv epilogues (which use Keras' default
// parameters: see default_params).
#pragma once

#include "ranvier/activation.h"
#include "simd/vec.h"

namespace ranvier::simd {

// SELU's scale (Klambauer et al.), as Keras and PyTorch write it.
inline constexpr float kSeluScale = 1.0507009873554804934193349852946f;
// scale * alpha, rounded once: selu(-inf) is exactly -kSeluScaleAlpha, so that its derivative there is exactly 0
inline constexpr float kSeluScaleAlpha = 1.7580993408473768599402175208123f;

// v where ref is a number, ref (NaN) where it is NaN.
template <class V>
inline V keep_nan(V v, V ref) {
  return select(ref == ref, v, ref);
}

// sigmoid(x) and 1 - sigmoid(x) = sigmoid(-x), each from e^-|x| without the
// cancellation of 1 - s (what silu's tails need).
template <class V>
inline void sigmoid_both(V x, V* s, V* one_minus_s) {
  V e = exp(V::zero() - abs(x));
  V one = V::set1(1.0f);
  V big = one / (one + e), small = e * big;  // sigmoid(|x|), sigmoid(-|x|)
  *s = select(x < V::zero(), small, big);
  *one_minus_s = select(x < V::zero(), big, small);
}

template <class V>
inline V elu(V x, float alpha) {
  return select(x > V::zero(), x, V::set1(alpha) * expm1(x));  // NaN: expm1(NaN)
}

// Keras' ReLU layer: (x if x > threshold else 0), clipped to [0, max_value]
// when there is a max_value, less negative_slope * max(threshold - x, 0).
template <class V>
inline V relu_general(V x, const ActivationParams& p) {
  V t = V::set1(p.threshold);
  V y = select(x > t, x, V::zero());
  if (p.max_value < INFINITY) y = min(V::set1(p.max_value), max(V::zero(), y));
  if (p.alpha != 0.0f) y = y - V::set1(p.alpha) * max(V::zero(), t - x);
  return keep_nan(y, x);
}

// Its derivative from x: 1 where x > threshold (and, with a max_value, 0 <= x
// <= max_value), plus negative_slope where x < threshold.
template <class V>
inline V relu_general_grad(V x, const ActivationParams& p) {
  V t = V::set1(p.threshold);
  V d = select(x > t, V::set1(1.0f), V::zero());
  if (p.max_value < INFINITY) {
    d = select(x > V::set1(p.max_value), V::zero(), d);
    d = select(x < V::zero(), V::zero(), d);
  }
  d = d + select(x < t, V::set1(p.alpha), V::zero());
  return keep_nan(d, x);
}

template <class V>
inline V activate(Activation act, V x, const ActivationParams& p) {
  V one = V::set1(1.0f);
  switch (act) {
    case Activation::relu:
      return max(V::zero(), x);  // x second: NaN stays NaN
    case Activation::sigmoid:
      return sigmoid(x);
    case Activation::tanh:
      return tanh(x);
    case Activation::gelu:
      return gelu(x);
    case Activation::leaky_relu:  // a slope of 0 is relu: -inf gives 0 (the limit), not -inf * 0
      if (p.alpha == 0.0f) return max(V::zero(), x);
      return select(x > V::zero(), x, V::set1(p.alpha) * x);
    case Activation::elu:
      return elu(x, p.alpha);
    case Activation::selu:
      return select(x > V::zero(), V::set1(kSeluScale) * x, V::set1(kSeluScaleAlpha) * expm1(x));
    case Activation::silu: {  // x clamped to -100 (where sigmoid is 0): -inf gives 0, not -inf * 0
      V s, one_minus_s;
      sigmoid_both(x, &s, &one_minus_s);
      return max(V::set1(-100.0f), x) * s;
    }
    case Activation::softplus:  // max(x, 0) + log(1 + e^-|x|): never overflows
      return max(V::zero(), x) + log1p_unit(exp(V::zero() - abs(x)));
    case Activation::softsign: {  // |x| clamped to 1e30 so that +-inf gives +-1, not inf / inf
      V xc = min(V::set1(1e30f), max(V::set1(-1e30f), x));
      return xc / (one + abs(xc));
    }
    case Activation::hard_sigmoid:  // relu6(x + 3) / 6; min/max keep NaN second
      return min(one, max(V::zero(), fmadd(x, V::set1(1.0f / 6), V::set1(0.5f))));
    case Activation::exponential:  // above 88, e^(x - 88) e^88: overflows to inf where float32 e^x does
      return select(x > V::set1(88.0f), exp(x - V::set1(88.0f)) * V::set1(1.6516362549940018e38f), exp(x));
    case Activation::relu_general:
      return relu_general(x, p);
    default:
      return x;
  }
}

// With Keras' default parameters: what the epilogues apply.
template <class V>
inline V activate(Activation act, V x) {
  return activate(act, x, default_params(act));
}

// dL/dx from dL/dy; `saved` is x where derivative_needs_input(act), else y.
template <class V>
inline V activate_backward(Activation act, V dy, V saved, const ActivationParams& p) {
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
    case Activation::leaky_relu:  // y > 0 exactly where x > 0 (slope >= 0)
      return dy * keep_nan(select(saved > V::zero(), one, V::set1(p.alpha)), saved);
    case Activation::elu:  // alpha e^x = y + alpha where x <= 0; >= 0 even where y was rounded
      return dy * select(saved > V::zero(), one, max(V::zero(), saved + V::set1(p.alpha)));
    case Activation::selu:
      return dy * select(saved > V::zero(), V::set1(kSeluScale), max(V::zero(), saved + V::set1(kSeluScaleAlpha)));
    case Activation::silu: {  // s (1 + x (1 - s)), x clamped where s is 0 or 1
      V s, one_minus_s;
      sigmoid_both(saved, &s, &one_minus_s);
      V xc = min(V::set1(100.0f), max(V::set1(-100.0f), saved));
      return dy * s * fmadd(xc, one_minus_s, one);
    }
    case Activation::softplus: {
      V s, one_minus_s;
      sigmoid_both(saved, &s, &one_minus_s);
      return dy * s;
    }
    case Activation::softsign: {  // 1 / (1 + |x|)^2
      V r = one / (one + abs(saved));
      return dy * r * r;
    }
    case Activation::hard_sigmoid:  // 1/6 where 0 < y < 1
      return dy *
             keep_nan(select(saved > V::zero(), select(saved < one, V::set1(1.0f / 6), V::zero()), V::zero()), saved);
    case Activation::exponential:
      return dy * saved;
    case Activation::relu_general:
      return dy * relu_general_grad(saved, p);
    default:
      return dy;
  }
}

template <class V>
inline V activate_backward(Activation act, V dy, V saved) {
  return activate_backward(act, dy, saved, default_params(act));
}

}  // namespace ranvier::simd

// Vector transcendental functions, written once over any Vec type.
// Accuracy (float32, checked by the activation tests against float64):
//   exp: ~1 ulp (Cephes polynomial, Cody-Waite range reduction)
//   erf: absolute error < 2e-7 (Abramowitz & Stegun 7.1.26)
//   expm1: ~2 ulp (Taylor series below |x| = 0.5, where exp(x) - 1 cancels)
//   log1p_unit: ~2 ulp on [0, 1] (atanh series)
#pragma once

#include <initializer_list>

namespace ranvier::simd {

// e^x; 0 below -87.3 (where float32 would go subnormal), clamped above 88.7,
// NaN for NaN (the clamp keeps it: see max/min in vec.h).
template <class V>
inline V exp(V x) {
  const V hi = V::set1(88.7f), lo = V::set1(-87.3f);
  V xc = min(hi, max(lo, x));
  V n = round_nearest(xc * V::set1(1.44269504088896341f));
  V r = fnmadd(n, V::set1(0.693359375f), xc);
  r = fnmadd(n, V::set1(-2.12194440e-4f), r);
  V p = V::set1(1.9875691500e-4f);
  p = fmadd(p, r, V::set1(1.3981999507e-3f));
  p = fmadd(p, r, V::set1(8.3334519073e-3f));
  p = fmadd(p, r, V::set1(4.1665795894e-2f));
  p = fmadd(p, r, V::set1(1.6666665459e-1f));
  p = fmadd(p, r, V::set1(5.0000001201e-1f));
  p = fmadd(p * r, r, r + V::set1(1.0f));
  return select(x < lo, V::zero(), p * pow2i(n));
}

// e^x - 1, accurate near 0 (where e^x - 1 loses the low digits): the Taylor
// series to x^9 / 9! below |x| = 0.5 (truncation < 3e-10 relative), e^x - 1
// above. -inf gives -1, NaN gives NaN.
template <class V>
inline V expm1(V x) {
  constexpr float kInverseFactorials[] = {1.0f / 362880, 1.0f / 40320, 1.0f / 5040, 1.0f / 720,
                                          1.0f / 120,    1.0f / 24,    1.0f / 6,    1.0f / 2};
  V q = V::set1(kInverseFactorials[0]);
  for (int i = 1; i < 8; ++i) q = fmadd(q, x, V::set1(kInverseFactorials[i]));
  V series = fmadd(q * x, x, x);
  return select(abs(x) < V::set1(0.5f), series, exp(x) - V::set1(1.0f));
}

// log(1 + t) for t in [0, 1]: 2 atanh(s), s = t / (2 + t) in [0, 1/3], by its
// series to s^15 (truncation < 1e-9); no cancellation for small t.
template <class V>
inline V log1p_unit(V t) {
  V s = t / (V::set1(2.0f) + t);
  V s2 = s * s;
  V c = V::set1(1.0f / 15);
  for (float k : {13.0f, 11.0f, 9.0f, 7.0f, 5.0f, 3.0f, 1.0f}) c = fmadd(c, s2, V::set1(1.0f / k));
  return V::set1(2.0f) * s * c;
}

// 1 / (1 + e^-x), computed from e^-|x| so it never overflows.
template <class V>
inline V sigmoid(V x) {
  V e = exp(V::zero() - abs(x));
  V one = V::set1(1.0f);
  V pos = one / (one + e);  // sigmoid(|x|)
  return select(x < V::zero(), one - pos, pos);
}

// tanh(x) = sign(x) (1 - e) / (1 + e), e = e^{-2|x|}; a Taylor series near 0
// where 1 - e would cancel.
template <class V>
inline V tanh(V x) {
  V ax = abs(x);
  V e = exp(V::set1(-2.0f) * ax);
  V one = V::set1(1.0f);
  V big = (one - e) / (one + e);
  V x2 = ax * ax;
  V series = fmadd(x2, V::set1(-17.0f / 315.0f), V::set1(2.0f / 15.0f));
  series = fmadd(series, x2, V::set1(-1.0f / 3.0f));
  series = fmadd(series * x2, ax, ax);
  V t = select(ax < V::set1(0.125f), series, big);
  return copysign(t, x);
}

// erfc(|u|) for the A&S 7.1.26 form: t * poly(t) * e^{-u^2}, t = 1/(1 + p|u|);
// the caller passes e = e^{-u^2}, which the GELU derivative shares.
template <class V>
inline V erfc_abs(V u, V e) {
  V t = V::set1(1.0f) / fmadd(V::set1(0.3275911f), abs(u), V::set1(1.0f));
  V p = V::set1(1.061405429f);
  p = fmadd(p, t, V::set1(-1.453152027f));
  p = fmadd(p, t, V::set1(1.421413741f));
  p = fmadd(p, t, V::set1(-0.284496736f));
  p = fmadd(p, t, V::set1(0.254829592f));
  return p * t * e;
}

// e^{-x^2 / 2}: the Gaussian factor of both the normal CDF's tail and the density.
template <class V>
inline V gaussian(V x) {
  return exp(V::set1(-0.5f) * x * x);
}

// Normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2, from erfc so that the tail
// x << 0 keeps its relative accuracy; g = gaussian(x).
template <class V>
inline V normal_cdf(V x, V g) {
  V half_tail = V::set1(0.5f) * erfc_abs(x * V::set1(0.70710678118654752f), g);
  return select(x < V::zero(), half_tail, V::set1(1.0f) - half_tail);
}

// Where |x| > 20, Phi(x) is 0 or 1 and phi(x) is 0 in float32: the factor x
// of the formulas below is clamped there, so that x = -inf gives the limit 0
// (not -inf * 0 = NaN); NaN stays NaN.
template <class V>
inline V clamp_tail(V x) {
  return min(V::set1(20.0f), max(V::set1(-20.0f), x));
}

// GELU (exact, erf form, as Keras and PyTorch default to): x * Phi(x).
template <class V>
inline V gelu(V x) {
  return max(V::set1(-20.0f), x) * normal_cdf(x, gaussian(x));
}

// d/dx GELU = Phi(x) + x * phi(x), phi the standard normal density; one exp serves both.
template <class V>
inline V gelu_grad(V x) {
  V g = gaussian(x);
  return fmadd(clamp_tail(x), V::set1(0.3989422804014327f) * g, normal_cdf(x, g));
}

}  // namespace ranvier::simd

// 4 float lanes through the compiler's portable vector extension: SSE2 on
// baseline x86-64, NEON on Arm, plain loops elsewhere. The fallback for CPUs
// without AVX2 and the reference for what the wider versions must do.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace ranvier::simd::generic {

typedef float f32x4 __attribute__((vector_size(16)));
typedef std::int32_t i32x4 __attribute__((vector_size(16)));

struct Vec {
  static constexpr int kLanes = 4;
  using Mask = i32x4;
  f32x4 v;

  static Vec zero() { return {f32x4{0.f, 0.f, 0.f, 0.f}}; }
  static Vec set1(float x) { return {f32x4{x, x, x, x}}; }
  static Vec load(const float* p) {
    Vec r;
    std::memcpy(&r.v, p, sizeof(r.v));
    return r;
  }
  static Vec load_partial(const float* p, std::int64_t n) {
    Vec r = zero();
    for (std::int64_t i = 0; i < n; ++i) r.v[i] = p[i];
    return r;
  }
  // Lanes p[0], p[stride], ..., of which the first n (the rest 0).
  static Vec gather_partial(const float* p, std::int64_t stride, std::int64_t n) {
    Vec r = zero();
    for (std::int64_t i = 0; i < n; ++i) r.v[i] = p[i * stride];
    return r;
  }
  void store(float* p) const { std::memcpy(p, &v, sizeof(v)); }
  void store_partial(float* p, std::int64_t n) const {
    for (std::int64_t i = 0; i < n; ++i) p[i] = v[i];
  }
  void stream(float* p) const { store(p); }  // no cache-bypassing store here
};

inline Vec operator+(Vec a, Vec b) { return {a.v + b.v}; }
inline Vec operator-(Vec a, Vec b) { return {a.v - b.v}; }
inline Vec operator*(Vec a, Vec b) { return {a.v * b.v}; }
inline Vec operator/(Vec a, Vec b) { return {a.v / b.v}; }
inline Vec fmadd(Vec a, Vec b, Vec c) { return {a.v * b.v + c.v}; }
inline Vec fnmadd(Vec a, Vec b, Vec c) { return {c.v - a.v * b.v}; }
inline Vec max(Vec a, Vec b) { return {a.v > b.v ? a.v : b.v}; }
inline Vec min(Vec a, Vec b) { return {a.v < b.v ? a.v : b.v}; }
inline Vec sqrt(Vec a) {
  Vec r;
  for (int i = 0; i < 4; ++i) r.v[i] = std::sqrt(a.v[i]);
  return r;
}
inline Vec abs(Vec a) { return {a.v < 0.f ? -a.v : a.v}; }
inline Vec round_nearest(Vec a) {
  Vec r;
  for (int i = 0; i < 4; ++i) r.v[i] = std::nearbyint(a.v[i]);
  return r;
}
// 2^n for integral n in [-126, 127].
inline Vec pow2i(Vec n) {
  i32x4 e = (__builtin_convertvector(n.v, i32x4) + 127) << 23;
  Vec r;
  std::memcpy(&r.v, &e, sizeof(e));
  return r;
}
inline Vec copysign(Vec mag, Vec sign) {
  Vec r;
  for (int i = 0; i < 4; ++i) r.v[i] = std::copysign(mag.v[i], sign.v[i]);
  return r;
}
// Transposes the 4 x 4 block whose rows are r[0..3]: afterwards r[i] holds
// what was column i.
inline void transpose(Vec (&r)[4]) {
  const Vec in[4] = {r[0], r[1], r[2], r[3]};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) r[i].v[j] = in[j].v[i];
}

inline Vec::Mask operator<(Vec a, Vec b) { return a.v < b.v; }
inline Vec::Mask operator>(Vec a, Vec b) { return a.v > b.v; }
inline Vec::Mask operator==(Vec a, Vec b) { return a.v == b.v; }
inline Vec select(Vec::Mask m, Vec if_true, Vec if_false) { return {m ? if_true.v : if_false.v}; }
inline void stream_fence() {}

inline float reduce_sum(Vec a) { return (a.v[0] + a.v[1]) + (a.v[2] + a.v[3]); }
inline float reduce_max(Vec a) {
  float m = a.v[0];
  for (int i = 1; i < 4; ++i) m = a.v[i] > m ? a.v[i] : m;
  return m;
}

}  // namespace ranvier::simd::generic

// Loops over a row in blocks of one vector, the last block possibly partial,
// and the lane-level helpers such loops need. Written once over any Vec.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace ranvier::simd {

// Calls body(i, lanes) for the blocks [i, i + lanes) that cover [0, n);
// lanes is V::kLanes except for the last block.
template <class V, class Body>
inline void for_blocks(std::int64_t n, Body body) {
  std::int64_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes) body(i, static_cast<std::int64_t>(V::kLanes));
  if (i < n) body(i, n - i);
}

// The first `lanes` floats at p; the other lanes are zero.
template <class V>
inline V load_block(const float* p, std::int64_t lanes) {
  return lanes == V::kLanes ? V::load(p) : V::load_partial(p, lanes);
}

template <class V>
inline void store_block(V v, float* p, std::int64_t lanes) {
  if (lanes == V::kLanes)
    v.store(p);
  else
    v.store_partial(p, lanes);
}

// Outputs of at least this many floats are written with stores that bypass
// the caches: they would not stay cached for the next op anyway, and a plain
// store first reads every line it writes.
constexpr std::int64_t kStreamFloats = std::int64_t{1} << 20;  // 4 MB

// Whether an output of `floats` floats at p, written in whole vectors at
// multiples of `stride` floats from p, is large enough to stream and aligned
// for it.
template <class V>
inline bool should_stream(const float* p, std::int64_t stride, std::int64_t floats) {
  return floats >= kStreamFloats && stride % V::kLanes == 0 &&
         reinterpret_cast<std::uintptr_t>(p) % (sizeof(float) * V::kLanes) == 0;
}

// store_block, or for kStream a cache-bypassing store of a full vector.
template <bool kStream, class V>
inline void put_block(V v, float* p, std::int64_t lanes) {
  if (kStream && lanes == V::kLanes)
    v.stream(p);
  else
    store_block(v, p, lanes);
}

// out[i, i + lanes) = value(i, lanes) over the blocks of [0, n) (for_blocks).
// With `stream`, the blocks from the first 64-byte boundary on are written
// past the caches (the ones before it, and an out that is not float-aligned,
// as usual); the caller then calls stream_fence() before another thread reads out.
template <class V, class Value>
inline void write_blocks(float* out, std::int64_t n, bool stream, Value value) {
  constexpr std::int64_t kVectorBytes = sizeof(float) * V::kLanes;
  const std::int64_t misaligned = static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(out) % kVectorBytes);
  if (!stream || misaligned % sizeof(float) != 0) {
    for_blocks<V>(n, [&](std::int64_t i, std::int64_t lanes) { store_block(value(i, lanes), out + i, lanes); });
    return;
  }
  std::int64_t i = misaligned == 0 ? 0 : std::min<std::int64_t>(n, (kVectorBytes - misaligned) / sizeof(float));
  if (i > 0) store_block(value(0, i), out, i);
  for (; i + V::kLanes <= n; i += V::kLanes) value(i, V::kLanes).stream(out + i);
  if (i < n) store_block(value(i, n - i), out + i, n - i);
}

// v with the lanes from `lanes` on set to `fill`, so that a reduction over a
// partial block sees only real elements (fill 0 for a sum, -inf for a max).
template <class V>
inline V first_lanes(V v, std::int64_t lanes, float fill) {
  if (lanes == V::kLanes) return v;
  alignas(64) float tmp[V::kLanes];
  v.store(tmp);
  for (std::int64_t i = lanes; i < V::kLanes; ++i) tmp[i] = fill;
  return V::load(tmp);
}

// `value` where x is a number, NaN where x is NaN. simd::exp and sigmoid map
// NaN to a finite number; losses and softmax must not hide a bad input.
template <class V>
inline V propagate_nan(V x, V value) {
  return select(abs(x) > V::set1(-1.0f), value, x);
}

// The kLanes x kLanes block at src (rows lds apart) transposed into dst (rows
// ldd apart): dst[j * ldd + i] = src[i * lds + j], through the ISA's
// in-register transpose.
template <class V>
inline void transpose_block(float* dst, std::int64_t ldd, const float* src, std::int64_t lds) {
  V r[V::kLanes];
  for (int i = 0; i < V::kLanes; ++i) r[i] = V::load(src + i * lds);
  transpose(r);
  for (int i = 0; i < V::kLanes; ++i) r[i].store(dst + i * ldd);
}

}  // namespace ranvier::simd

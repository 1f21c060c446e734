// Spatial kernels, compiled once per ISA: copies, block sums and bilinear
// taps over runs of floats. In NHWC a pixel's C channels are contiguous, and
// so is a run of pixels along W, so every loop moves vectors of channels.
#include <algorithm>

#include "simd/blocks.h"
#include "simd/vec.h"
#include "spatial_kernels.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;
using simd::for_blocks;
using simd::load_block;
using simd::store_block;

void copy_floats(float* to, const float* from, std::int64_t count) {
  for_blocks<V>(
      count, [&](std::int64_t i, std::int64_t lanes) { store_block(load_block<V>(from + i, lanes), to + i, lanes); });
}

void zero_floats(float* to, std::int64_t count) {
  for_blocks<V>(count, [&](std::int64_t i, std::int64_t lanes) { store_block(V::zero(), to + i, lanes); });
}

// Writes output row ih * size_h by repeating each pixel of input row ih
// size_w times, then copies it to the size_h - 1 rows below.
void upsample_nearest(float* y, const float* x, const Upsample2d& u, std::int64_t begin, std::int64_t end) {
  const std::int64_t out_row = u.w * u.size_w * u.c;
  for (std::int64_t row = begin; row < end; ++row) {
    const float* from = x + row * u.w * u.c;
    float* first = y + row * u.size_h * out_row;  // (n * H + ih) * size_h = n * OUT_H + ih * size_h
    if (u.c < V::kLanes) {
      // Few channels: a partial vector per pixel would cost more than plain copies.
      for (std::int64_t iw = 0; iw < u.w; ++iw)
        for (std::int64_t b = 0; b < u.size_w; ++b)
          for (std::int64_t c = 0; c < u.c; ++c) first[(iw * u.size_w + b) * u.c + c] = from[iw * u.c + c];
    } else {
      for (std::int64_t iw = 0; iw < u.w; ++iw) {
        float* to = first + iw * u.size_w * u.c;
        for_blocks<V>(u.c, [&](std::int64_t c, std::int64_t lanes) {
          const V v = load_block<V>(from + iw * u.c + c, lanes);
          for (std::int64_t b = 0; b < u.size_w; ++b) store_block(v, to + b * u.c + c, lanes);
        });
      }
    }
    for (std::int64_t a = 1; a < u.size_h; ++a) copy_floats(first + a * out_row, first, out_row);
  }
}

// dx[n, ih, iw] = the sum of dy over rows ih * size_h + [0, size_h) and
// columns iw * size_w + [0, size_w), row by row.
void upsample_nearest_backward(float* dx, const float* dy, const Upsample2d& u, std::int64_t begin, std::int64_t end) {
  const std::int64_t out_row = u.w * u.size_w * u.c;
  for (std::int64_t row = begin; row < end; ++row) {
    const float* block_rows = dy + row * u.size_h * out_row;
    float* to = dx + row * u.w * u.c;
    for (std::int64_t iw = 0; iw < u.w; ++iw) {
      const float* block = block_rows + iw * u.size_w * u.c;
      for_blocks<V>(u.c, [&](std::int64_t c, std::int64_t lanes) {
        V sum = V::zero();
        for (std::int64_t a = 0; a < u.size_h; ++a)
          for (std::int64_t b = 0; b < u.size_w; ++b)
            sum = sum + load_block<V>(block + a * out_row + b * u.c + c, lanes);
        store_block(sum, to + iw * u.c + c, lanes);
      });
    }
  }
}

// A row of x (W, C) read at the column taps of output column ow, channels
// [c, c + lanes): w0 * x[j0] + w1 * x[j1], or x[j0] alone where w1 is 0.
inline V row_at(const float* row, const Taps& t, std::int64_t channels, std::int64_t c, std::int64_t lanes) {
  const V a = load_block<V>(row + t.i0 * channels + c, lanes);
  if (t.w1 == 0.0f) return a;
  return V::set1(t.w0) * a + V::set1(t.w1) * load_block<V>(row + t.i1 * channels + c, lanes);
}

void upsample_bilinear(float* y, const float* x, const Upsample2d& u, const Taps* cols, std::int64_t begin,
                       std::int64_t end) {
  const std::int64_t out_h = u.h * u.size_h, out_w = u.w * u.size_w, in_row = u.w * u.c;
  for (std::int64_t row = begin; row < end; ++row) {
    const std::int64_t n = row / out_h;
    const Taps th = bilinear_taps(row % out_h, u.h, u.size_h);
    const float* top = x + (n * u.h + th.i0) * in_row;
    const float* below = x + (n * u.h + th.i1) * in_row;
    float* out = y + row * out_w * u.c;
    for (std::int64_t ow = 0; ow < out_w; ++ow) {
      const Taps& tw = cols[ow];
      for_blocks<V>(u.c, [&](std::int64_t c, std::int64_t lanes) {
        const V r0 = row_at(top, tw, u.c, c, lanes);
        const V v = th.w1 == 0.0f ? r0 : V::set1(th.w0) * r0 + V::set1(th.w1) * row_at(below, tw, u.c, c, lanes);
        store_block(v, out + ow * u.c + c, lanes);
      });
    }
  }
}

// The weight with which output row o reads input row i (0 when it does not).
inline float row_weight(const Taps& t, std::int64_t i) {
  float w = t.i0 == i ? t.w0 : 0.0f;
  if (t.w1 != 0.0f && t.i1 == i) w += t.w1;
  return w;
}

void upsample_bilinear_backward(float* dx, const float* dy, const Upsample2d& u, const Taps* cols, std::int64_t begin,
                                std::int64_t end) {
  const std::int64_t out_h = u.h * u.size_h, out_w = u.w * u.size_w, in_row = u.w * u.c;
  for (std::int64_t row = begin; row < end; ++row) {
    const std::int64_t n = row / u.h, ih = row % u.h;
    float* to = dx + row * in_row;
    zero_floats(to, in_row);
    // The output rows that can read row ih, with a row of margin for rounding.
    const std::int64_t first = std::max<std::int64_t>(0, (ih - 1) * u.size_h - 1);
    const std::int64_t last = std::min(out_h, (ih + 2) * u.size_h + 1);
    for (std::int64_t oh = first; oh < last; ++oh) {
      const float weight = row_weight(bilinear_taps(oh, u.h, u.size_h), ih);
      if (weight == 0.0f) continue;
      const float* g = dy + (n * out_h + oh) * out_w * u.c;
      for (std::int64_t ow = 0; ow < out_w; ++ow) {
        const Taps& tw = cols[ow];
        for_blocks<V>(u.c, [&](std::int64_t c, std::int64_t lanes) {
          const V d = load_block<V>(g + ow * u.c + c, lanes) * V::set1(weight);
          float* a = to + tw.i0 * u.c + c;
          store_block(load_block<V>(a, lanes) + d * V::set1(tw.w0), a, lanes);
          if (tw.w1 == 0.0f) return;
          float* b = to + tw.i1 * u.c + c;
          store_block(load_block<V>(b, lanes) + d * V::set1(tw.w1), b, lanes);
        });
      }
    }
  }
}

// Output row (n, oh) is input row oh - top where that exists: zeros left of
// column `left`, the overlapping run of x's row, zeros after it.
void shift(float* y, const float* x, const Shift2d& s, std::int64_t begin, std::int64_t end) {
  const std::int64_t out_row = s.out_w * s.c;
  const std::int64_t lo = std::max<std::int64_t>(0, s.left), hi = std::min(s.out_w, s.w + s.left);
  for (std::int64_t row = begin; row < end; ++row) {
    const std::int64_t n = row / s.out_h, ih = row % s.out_h - s.top;
    float* to = y + row * out_row;
    if (ih < 0 || ih >= s.h || lo >= hi) {
      zero_floats(to, out_row);
      continue;
    }
    zero_floats(to, lo * s.c);
    copy_floats(to + lo * s.c, x + ((n * s.h + ih) * s.w + (lo - s.left)) * s.c, (hi - lo) * s.c);
    zero_floats(to + hi * s.c, (s.out_w - hi) * s.c);
  }
}

}  // namespace

extern const SpatialKernels spatial_kernels = {upsample_nearest, upsample_nearest_backward, upsample_bilinear,
                                               upsample_bilinear_backward, shift};

}  // namespace ranvier::cpu::RANVIER_ISA_NS

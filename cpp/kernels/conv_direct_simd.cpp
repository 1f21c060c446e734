// The direct convolution's loops (see conv_direct_kernels.h), compiled once
// per ISA. Output channels are the contiguous axis of NHWC, so every loop runs
// over vectors of them, a few vectors at a time held in registers.
#include <algorithm>
#include <type_traits>

#include "activation_apply.h"
#include "conv_direct_kernels.h"
#include "simd/blocks.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;
using simd::for_blocks;
using simd::load_block;
using simd::store_block;

constexpr int L = V::kLanes;
constexpr int kVecs = 4;  // most vectors of output channels the kernels keep in registers
// Vectors a 3x3 kernel's loops may hold in registers (of 32 or 16): its dw
// sums, or its weights for dx.
constexpr int kMaxHeld = L == 16 ? 24 : 8;

// (n, row, col) of a pixel, stepped along without dividing per pixel (an
// integer division costs more than the multiply-adds of a small kernel).
struct PixelCursor {
  std::int64_t n, row, col, rows, cols;
  PixelCursor(std::int64_t index, std::int64_t rows_, std::int64_t cols_)
      : n(index / (rows_ * cols_)), row(index / cols_ % rows_), col(index % cols_), rows(rows_), cols(cols_) {}
  void next() {
    if (++col == cols) {
      col = 0;
      if (++row == rows) row = 0, ++n;
    }
  }
};

// The output index o with o * stride == t, if there is one below `limit`.
inline bool output_at(std::int64_t t, std::int64_t stride, std::int64_t limit, std::int64_t& o) {
  if (t < 0) return false;
  if (stride == 1) {
    o = t;
  } else {
    if (t % stride != 0) return false;
    o = t / stride;
  }
  return o < limit;
}

// The kernel elements of output pixel (n, oh, ow) that land inside the
// image: rows i in [i0, i1), columns j in [j0, j1) (positions grow with the
// index, so those inside form one run along each axis).
struct Taps {
  std::int64_t i0, i1, j0, j1;
  std::int64_t ih0, iw0;  // input row and column of element (0, 0), maybe outside
};

// First e in [0, count) with 0 <= start + e * step, and the end of the run
// with start + e * step < size.
inline void inside_range(std::int64_t start, std::int64_t step, std::int64_t count, std::int64_t size,
                         std::int64_t& first, std::int64_t& end) {
  if (step == 1) {  // no dilation: no division per pixel
    first = std::clamp<std::int64_t>(-start, 0, count);
    end = std::max(first, std::min(count, size - start));
    return;
  }
  first = start >= 0 ? 0 : std::min(count, (-start + step - 1) / step);
  end = start >= size ? first : std::max(first, std::min(count, (size - start + step - 1) / step));
}

inline Taps taps_inside(const Conv2dShape& s, const PixelCursor& out) {
  Taps t;
  t.ih0 = out.row * s.stride_h - s.pad_top;
  t.iw0 = out.col * s.stride_w - s.pad_left;
  inside_range(t.ih0, s.dilation_h, s.kh, s.h, t.i0, t.i1);
  inside_range(t.iw0, s.dilation_w, s.kw, s.w, t.j0, t.j1);
  return t;
}

// ---- K a multiple of the vector width, at most kVecs vectors (the layers of
// real networks): every load whole, the loops over vectors fully unrolled.

template <int KV, int C>
void forward_whole(float* y, const float* x, const float* w, const float* b, const Conv2dShape& s, Activation act,
                   std::int64_t r0, std::int64_t r1) {
  constexpr std::int64_t k = KV * L;
  const std::int64_t row_step = s.dilation_h * s.w * C, col_step = s.dilation_w * C;
  PixelCursor out(r0, s.ho(), s.wo());
  for (std::int64_t r = r0; r < r1; ++r, out.next()) {
    V acc[KV];
#pragma GCC unroll 4
    for (int v = 0; v < KV; ++v) acc[v] = b != nullptr ? V::load(b + v * L) : V::zero();
    // Loops written out, sizes known at compile time where they can be: any
    // reference to acc that escapes keeps it in memory instead of registers.
    const Taps t = taps_inside(s, out);
    const float* x_tap = x + ((out.n * s.h + t.ih0) * s.w + t.iw0) * C;
    for (std::int64_t i = t.i0; i < t.i1; ++i)
      for (std::int64_t j = t.j0; j < t.j1; ++j) {
        const float* xp = x_tap + i * row_step + j * col_step;
        const float* wr = w + (i * s.kw + j) * C * k;
#pragma GCC unroll 4
        for (int ci = 0; ci < C; ++ci) {
          const V xv = V::set1(xp[ci]);
#pragma GCC unroll 4
          for (int v = 0; v < KV; ++v) acc[v] = fmadd(xv, V::load(wr + ci * k + v * L), acc[v]);
        }
      }
#pragma GCC unroll 4
    for (int v = 0; v < KV; ++v) simd::activate(act, acc[v]).store(y + r * k + v * L);
  }
}

// dx[p, ci] = sum over the outputs (oh, ow) and kernel elements (i, j) with
// (oh * stride + i * dilation - pad) == (ih, iw) of dz[oh, ow] . w[i, j, ci].
template <int KV, int C>
void backward_input_whole(float* dx, const float* dz, const float* w, const Conv2dShape& s, std::int64_t p0,
                          std::int64_t p1) {
  const std::int64_t ho = s.ho(), wo = s.wo();
  constexpr std::int64_t k = KV * L;
  // A 3x3 kernel with unit stride and dilation: its weights, loaded once when
  // they fit in registers, serve every pixel away from the borders.
  constexpr int kHeld = 9 * C * KV <= kMaxHeld ? 9 * C * KV : 1;
  const bool interior_3x3 = kHeld > 1 && s.kh == 3 && s.kw == 3 && s.stride_h == 1 && s.stride_w == 1 &&
                            s.dilation_h == 1 && s.dilation_w == 1;
  V held[kHeld];
  for (int t = 0; t < kHeld; ++t) held[t] = interior_3x3 ? V::load(w + t * L) : V::zero();
  PixelCursor in(p0, s.h, s.w);
  for (std::int64_t p = p0; p < p1; ++p, in.next()) {
    const std::int64_t n = in.n, ih = in.row, iw = in.col;
    // Kernel element (i, j) meets output row oh with oh * stride = th - i * dilation.
    const std::int64_t th = ih + s.pad_top, tw = iw + s.pad_left;
    // Interior: with unit stride, element (i, j) meets output (th - i, tw - j), all inside.
    const bool interior = interior_3x3 && th >= 2 && th < ho && tw >= 2 && tw < wo;
#pragma GCC unroll 4
    for (int ci = 0; ci < C; ++ci) {
      V acc[KV];
      for (int v = 0; v < KV; ++v) acc[v] = V::zero();
      if (interior) {
        // A 3x3 kernel away from the borders, unrolled, the weights in
        // registers: two sets of sums taking turns, so that no FMA waits on
        // the one before.
        V odd[KV];
        for (int v = 0; v < KV; ++v) odd[v] = V::zero();
        const float* g00 = dz + ((n * ho + th) * wo + tw) * k;  // the output element (0, 0) meets
#pragma GCC unroll 9
        for (int e = 0; e < 9; ++e) {
          const float* g = g00 - ((e / 3) * wo + e % 3) * k;
          V* sums = e % 2 == 0 ? acc : odd;
          for (int v = 0; v < KV; ++v) sums[v] = fmadd(V::load(g + v * L), held[(e * C + ci) * KV + v], sums[v]);
        }
        for (int v = 0; v < KV; ++v) acc[v] = acc[v] + odd[v];
      } else {
        for (std::int64_t i = 0; i < s.kh; ++i) {
          std::int64_t oh, ow;
          if (!output_at(th - i * s.dilation_h, s.stride_h, ho, oh)) continue;
          for (std::int64_t j = 0; j < s.kw; ++j) {
            if (!output_at(tw - j * s.dilation_w, s.stride_w, wo, ow)) continue;
            const float* g = dz + ((n * ho + oh) * wo + ow) * k;
            const float* wr = w + ((i * s.kw + j) * C + ci) * k;
            for (int v = 0; v < KV; ++v) acc[v] = fmadd(V::load(g + v * L), V::load(wr + v * L), acc[v]);
          }
        }
      }
      V sum = acc[0];
      for (int v = 1; v < KV; ++v) sum = sum + acc[v];
      dx[p * C + ci] = reduce_sum(sum);
    }
  }
}

template <int KV>
void backward_weights_whole(float* dw, const float* cols, const float* dz, std::int64_t rows, std::int64_t kdim) {
  // Tiles of kCols patch columns x all KV vectors: 8 independent sums.
  constexpr int kCols = KV >= 8 ? 1 : 8 / KV;
  constexpr std::int64_t k = KV * L;
  for (std::int64_t p = 0; p < kdim; p += kCols) {
    const int np = static_cast<int>(std::min<std::int64_t>(kCols, kdim - p));
    V acc[kCols][KV];
    for (int q = 0; q < kCols; ++q)
      for (int v = 0; v < KV; ++v) acc[q][v] = V::zero();
    for (std::int64_t r = 0; r < rows; ++r) {
      V g[KV];
      for (int v = 0; v < KV; ++v) g[v] = V::load(dz + r * k + v * L);
      const float* patch = cols + r * kdim + p;
      for (int q = 0; q < kCols; ++q) {
        if (q >= np) break;
        const V xv = V::set1(patch[q]);
        for (int v = 0; v < KV; ++v) acc[q][v] = fmadd(xv, g[v], acc[q][v]);
      }
    }
    for (int q = 0; q < np; ++q)
      for (int v = 0; v < KV; ++v) {
        float* out = dw + (p + q) * k + v * L;
        (V::load(out) + acc[q][v]).store(out);
      }
  }
}

// A 3x3 kernel whose whole dw (9 C x KV vectors) fits in registers: one pass
// over the output pixels [r0, r1), each adding x * dz to all of dw, reading x
// in place (no patch matrix).
template <int KV, int C>
void backward_weights_3x3(float* dw, const float* x, const float* dz, const Conv2dShape& s, std::int64_t r0,
                          std::int64_t r1) {
  constexpr int T = 9 * C;
  constexpr std::int64_t k = KV * L;
  const std::int64_t row_step = s.dilation_h * s.w * C, col_step = s.dilation_w * C;
  V acc[T][KV];
  for (int t = 0; t < T; ++t)
    for (int v = 0; v < KV; ++v) acc[t][v] = V::zero();
  PixelCursor out(r0, s.ho(), s.wo());
  for (std::int64_t r = r0; r < r1; ++r, out.next()) {
    V g[KV];
    for (int v = 0; v < KV; ++v) g[v] = V::load(dz + r * k + v * L);
    const Taps taps = taps_inside(s, out);
    const bool whole = taps.i0 == 0 && taps.i1 == 3 && taps.j0 == 0 && taps.j1 == 3;
    const std::int64_t corner = ((out.n * s.h + taps.ih0) * s.w + taps.iw0) * C;  // element (0, 0), maybe outside
#pragma GCC unroll 9
    for (int e = 0; e < 9; ++e) {
      const int i = e / 3, j = e % 3;
      const bool inside = whole || (i >= taps.i0 && i < taps.i1 && j >= taps.j0 && j < taps.j1);
#pragma GCC unroll 4
      for (int ci = 0; ci < C; ++ci) {
        const V xv = V::set1(inside ? x[corner + i * row_step + j * col_step + ci] : 0.0f);
        for (int v = 0; v < KV; ++v) acc[e * C + ci][v] = fmadd(xv, g[v], acc[e * C + ci][v]);
      }
    }
  }
  for (int t = 0; t < T; ++t)
    for (int v = 0; v < KV; ++v) (V::load(dw + t * k + v * L) + acc[t][v]).store(dw + t * k + v * L);
}

// Calls body(std::integral_constant<int, v>) when 1 <= v <= kMax, so that the
// kernel is compiled for each such v; returns false (nothing called) otherwise.
template <int kMax, int N = 1, class Body>
bool with_constant(std::int64_t v, Body body) {
  if (v == N) {
    body(std::integral_constant<int, N>{});
    return true;
  }
  if constexpr (N < kMax) return with_constant<kMax, N + 1>(v, body);
  return false;
}

// with_constant for the channel counts conv.cpp sends here (1 to 3).
template <class Body>
bool with_channels(std::int64_t c, Body body) {
  return with_constant<3>(c, body);
}

// ---- Any K: a vector of output channels at a time, the last one partial.

void forward_any(float* y, const float* x, const float* w, const float* b, const Conv2dShape& s, Activation act,
                 std::int64_t r0, std::int64_t r1) {
  const std::int64_t k = s.k, c = s.c;
  PixelCursor out(r0, s.ho(), s.wo());
  for (std::int64_t r = r0; r < r1; ++r, out.next()) {
    const Taps t = taps_inside(s, out);
    for_blocks<V>(k, [&](std::int64_t kk, std::int64_t lanes) {
      V acc = b != nullptr ? load_block<V>(b + kk, lanes) : V::zero();
      for (std::int64_t i = t.i0; i < t.i1; ++i)
        for (std::int64_t j = t.j0; j < t.j1; ++j) {
          const float* xp = x + ((out.n * s.h + t.ih0 + i * s.dilation_h) * s.w + t.iw0 + j * s.dilation_w) * c;
          for (std::int64_t ci = 0; ci < c; ++ci)
            acc = fmadd(V::set1(xp[ci]), load_block<V>(w + ((i * s.kw + j) * c + ci) * k + kk, lanes), acc);
        }
      store_block(simd::activate(act, acc), y + r * k + kk, lanes);
    });
  }
}

void backward_input_any(float* dx, const float* dz, const float* w, const Conv2dShape& s, std::int64_t p0,
                        std::int64_t p1) {
  const std::int64_t ho = s.ho(), wo = s.wo(), k = s.k, c = s.c;
  PixelCursor in(p0, s.h, s.w);
  for (std::int64_t p = p0; p < p1; ++p, in.next()) {
    const std::int64_t n = in.n, ih = in.row, iw = in.col;
    for (std::int64_t ci = 0; ci < c; ++ci) {
      V acc = V::zero();
      for (std::int64_t i = 0; i < s.kh; ++i) {
        std::int64_t oh, ow;
        if (!output_at(ih + s.pad_top - i * s.dilation_h, s.stride_h, ho, oh)) continue;
        for (std::int64_t j = 0; j < s.kw; ++j) {
          if (!output_at(iw + s.pad_left - j * s.dilation_w, s.stride_w, wo, ow)) continue;
          const float* g = dz + ((n * ho + oh) * wo + ow) * k;
          const float* wr = w + ((i * s.kw + j) * c + ci) * k;
          for_blocks<V>(k, [&](std::int64_t kk, std::int64_t lanes) {
            acc = fmadd(load_block<V>(g + kk, lanes), load_block<V>(wr + kk, lanes), acc);
          });
        }
      }
      dx[p * c + ci] = reduce_sum(acc);
    }
  }
}

void backward_weights_any(float* dw, const float* cols, const float* dz, std::int64_t rows, std::int64_t kdim,
                          std::int64_t k) {
  for (std::int64_t p = 0; p < kdim; ++p)
    for_blocks<V>(k, [&](std::int64_t kk, std::int64_t lanes) {
      V acc = V::zero();
      for (std::int64_t r = 0; r < rows; ++r)
        acc = fmadd(V::set1(cols[r * kdim + p]), load_block<V>(dz + r * k + kk, lanes), acc);
      store_block(load_block<V>(dw + p * k + kk, lanes) + acc, dw + p * k + kk, lanes);
    });
}

// ---- Entry points: the whole-vector kernels where K allows.

// Calls body(std::integral_constant<int, KV>) for K = KV vectors, 1 <= KV <= kVecs;
// returns false (nothing called) for any other K.
template <class Body>
bool with_whole_vectors(std::int64_t k, Body body) {
  return k % L == 0 && with_constant<kVecs>(k / L, body);
}

void forward(float* y, const float* x, const float* w, const float* b, const Conv2dShape& s, Activation act,
             std::int64_t r0, std::int64_t r1) {
  bool done = false;
  with_whole_vectors(s.k, [&](auto kv) {
    done = with_channels(s.c, [&](auto c) { forward_whole<kv, c>(y, x, w, b, s, act, r0, r1); });
  });
  if (!done) forward_any(y, x, w, b, s, act, r0, r1);
}

void backward_input(float* dx, const float* dz, const float* w, const Conv2dShape& s, std::int64_t p0,
                    std::int64_t p1) {
  bool done = false;
  with_whole_vectors(s.k, [&](auto kv) {
    done = with_channels(s.c, [&](auto c) { backward_input_whole<kv, c>(dx, dz, w, s, p0, p1); });
  });
  if (!done) backward_input_any(dx, dz, w, s, p0, p1);
}

bool backward_weights_in_registers(float* dw, const float* x, const float* dz, const Conv2dShape& s, std::int64_t r0,
                                   std::int64_t r1) {
  bool done = false;
  if (s.kh == 3 && s.kw == 3) {
    with_whole_vectors(s.k, [&](auto kv) {
      with_channels(s.c, [&](auto c) {
        if constexpr (9 * c * kv <= kMaxHeld) {
          backward_weights_3x3<kv, c>(dw, x, dz, s, r0, r1);
          done = true;
        }
      });
    });
  }
  return done;
}

void backward_weights_patches(float* dw, const float* cols, const float* dz, std::int64_t rows, std::int64_t kdim,
                              std::int64_t k) {
  if (!with_whole_vectors(k, [&](auto kv) { backward_weights_whole<kv>(dw, cols, dz, rows, kdim); }))
    backward_weights_any(dw, cols, dz, rows, kdim, k);
}

}  // namespace

extern const ConvDirectKernels conv_direct_kernels = {forward, backward_input, backward_weights_in_registers,
                                                      backward_weights_patches};

}  // namespace ranvier::cpu::RANVIER_ISA_NS

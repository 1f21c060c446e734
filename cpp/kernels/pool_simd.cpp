// Pooling kernels, compiled once per ISA. Channels are the contiguous axis of
// NHWC, so every loop runs over vectors of channels.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "pool_kernels.h"
#include "simd/blocks.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;
using simd::for_blocks;
using simd::load_block;
using simd::put_block;
using simd::should_stream;
using simd::store_block;

// The part of window (oh, ow) inside the image: rows [h0, h1), columns
// [w0, w1). (top, left) is its unclipped corner, so element (ih, iw) has the
// offset (ih - top) * pool_w + (iw - left) in row-major window order.
struct Window {
  std::int64_t top, left, h0, h1, w0, w1;
  std::int64_t count() const { return (h1 - h0) * (w1 - w0); }
};

Window window(const Pool2d& p, std::int64_t oh, std::int64_t ow) {
  Window win;
  win.top = oh * p.stride_h - p.pad_top;
  win.left = ow * p.stride_w - p.pad_left;
  win.h0 = std::max<std::int64_t>(win.top, 0);
  win.h1 = std::min(win.top + p.pool_h, p.h);
  win.w0 = std::max<std::int64_t>(win.left, 0);
  win.w1 = std::min(win.left + p.pool_w, p.w);
  return win;
}

// The running maximum with NumPy's NaN rule: a NaN anywhere makes it NaN
// (max(v, m) alone is "v > m ? v : m", which drops a NaN in v).
inline V nan_max(V v, V m) { return select(v == v, max(v, m), v); }

// The maximum of window win of image at channels [c, c + lanes).
inline V window_max(const float* image, const Pool2d& p, const Window& win, std::int64_t c, std::int64_t lanes) {
  V best = load_block<V>(image + (win.h0 * p.w + win.w0) * p.c + c, lanes);
  for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
    for (std::int64_t iw = win.w0; iw < win.w1; ++iw)
      best = nan_max(load_block<V>(image + (ih * p.w + iw) * p.c + c, lanes), best);
  return best;
}

// What element v of a window gets of `left`, the gradient no earlier element
// has claimed: all of it if v is the first to match the window's maximum
// `best` (argmax: the first maximum, or the first NaN when best is NaN).
inline V claim(V v, V best, V& left) {
  const V got = select(v == best, left, select(v == v, V::zero(), left));
  left = select(v == best, V::zero(), select(v == v, left, V::zero()));
  return got;
}

// A 2x2 window wholly inside the image: the common case, written out.
bool is_full_2x2(const Pool2d& p, const Window& win) { return p.pool_h == 2 && p.pool_w == 2 && win.count() == 4; }

// Calls body(y_pixel, x_image, window) for every output pixel of output rows
// [begin, end); y_pixel points at its C channels, x_image at image n.
template <class Body>
void for_output_pixels(float* y, const float* x, const Pool2d& p, std::int64_t begin, std::int64_t end, Body body) {
  for (std::int64_t row = begin; row < end; ++row) {
    const std::int64_t n = row / p.out_h, oh = row % p.out_h;
    const float* image = x + n * p.h * p.w * p.c;
    for (std::int64_t ow = 0; ow < p.out_w; ++ow) body(y + (row * p.out_w + ow) * p.c, image, window(p, oh, ow));
  }
}

template <bool kMax, bool kStream>
void pool_forward(float* y, const float* x, const Pool2d& p, std::int64_t begin, std::int64_t end) {
  const std::int64_t right = p.c, down = p.w * p.c;
  for_output_pixels(y, x, p, begin, end, [&](float* out, const float* image, const Window& win) {
    const V inv_count = V::set1(1.0f / static_cast<float>(win.count()));
    if (is_full_2x2(p, win)) {
      const float* x0 = image + (win.h0 * p.w + win.w0) * p.c;
      for_blocks<V>(p.c, [&](std::int64_t c, std::int64_t lanes) {
        const V a = load_block<V>(x0 + c, lanes), b = load_block<V>(x0 + right + c, lanes);
        const V e = load_block<V>(x0 + down + c, lanes), f = load_block<V>(x0 + down + right + c, lanes);
        // window_max's order of operations, so both give the same bits.
        const V acc = kMax ? nan_max(f, nan_max(e, nan_max(b, a))) : ((a + b) + e) + f;
        put_block<kStream>(kMax ? acc : acc * inv_count, out + c, lanes);
      });
      return;
    }
    for_blocks<V>(p.c, [&](std::int64_t c, std::int64_t lanes) {
      if constexpr (kMax) {
        put_block<kStream>(window_max(image, p, win, c, lanes), out + c, lanes);
      } else {
        V sum = V::zero();
        for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
          for (std::int64_t iw = win.w0; iw < win.w1; ++iw)
            sum = sum + load_block<V>(image + (ih * p.w + iw) * p.c + c, lanes);
        put_block<kStream>(sum * inv_count, out + c, lanes);
      }
    });
  });
}

// Runs body(std::bool_constant<stream>) with stream = should_stream(...), so
// that the kernel is compiled with and without cache-bypassing stores.
template <class Body>
void with_streaming(float* out, const Pool2d& p, std::int64_t out_floats, Body body) {
  if (should_stream<V>(out, p.c, out_floats)) {
    body(std::true_type{});
    simd::RANVIER_ISA_NS::stream_fence();
  } else {
    body(std::false_type{});
  }
}

void max_forward(float* y, const float* x, const Pool2d& p, std::int64_t begin, std::int64_t end) {
  with_streaming(y, p, p.n * p.out_h * p.out_w * p.c,
                 [&](auto stream) { pool_forward<true, stream>(y, x, p, begin, end); });
}

void avg_forward(float* y, const float* x, const Pool2d& p, std::int64_t begin, std::int64_t end) {
  with_streaming(y, p, p.n * p.out_h * p.out_w * p.c,
                 [&](auto stream) { pool_forward<false, stream>(y, x, p, begin, end); });
}

void argmax(float* arg, const float* x, const Pool2d& p, std::int64_t begin, std::int64_t end) {
  for_output_pixels(arg, x, p, begin, end, [&](float* out, const float* image, const Window& win) {
    for_blocks<V>(p.c, [&](std::int64_t c, std::int64_t lanes) {
      V best = load_block<V>(image + (win.h0 * p.w + win.w0) * p.c + c, lanes);
      V best_at = V::set1(static_cast<float>((win.h0 - win.top) * p.pool_w + (win.w0 - win.left)));
      for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
        for (std::int64_t iw = win.w0; iw < win.w1; ++iw) {
          V v = load_block<V>(image + (ih * p.w + iw) * p.c + c, lanes);
          // Strictly greater (a tie keeps the earlier element), or the
          // first NaN; once best is NaN nothing replaces it.
          const V offset = V::set1(static_cast<float>((ih - win.top) * p.pool_w + (iw - win.left)));
          best_at = select(best == best, select(v == v, select(v > best, offset, best_at), offset), best_at);
          best = nan_max(v, best);
        }
      store_block(best_at, out + c, lanes);
    });
  });
}

// floor(a / b) for b > 0 and any a.
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : -((b - 1 - a) / b); }

// Writes input rows [begin, end) of dx: for each row, zeroes it, then adds
// grad(out, offset, win, c, lanes) at each element of each window that covers
// it, where out is the output pixel's index (n, oh, ow) and offset the
// element's row-major offset in the window. Windows are visited in output
// order, so the sums are the same for any split into threads.
template <class Grad>
void gather_backward(float* dx, const Pool2d& p, std::int64_t begin, std::int64_t end, Grad grad) {
  for (std::int64_t row = begin; row < end; ++row) {
    const std::int64_t n = row / p.h, ih = row % p.h;
    float* dx_row = dx + row * p.w * p.c;
    std::memset(dx_row, 0, static_cast<std::size_t>(p.w * p.c) * sizeof(float));
    // Output rows whose windows [oh * stride - pad, + pool) contain ih.
    const std::int64_t oh_first = std::max<std::int64_t>(0, floor_div(ih + p.pad_top - p.pool_h, p.stride_h) + 1);
    const std::int64_t oh_last = std::min(p.out_h - 1, floor_div(ih + p.pad_top, p.stride_h));
    for (std::int64_t oh = oh_first; oh <= oh_last; ++oh) {
      for (std::int64_t ow = 0; ow < p.out_w; ++ow) {
        const Window win = window(p, oh, ow);
        const std::int64_t out = (n * p.out_h + oh) * p.out_w + ow;
        for (std::int64_t iw = win.w0; iw < win.w1; ++iw) {
          const std::int64_t offset = (ih - win.top) * p.pool_w + (iw - win.left);
          float* d = dx_row + iw * p.c;
          for_blocks<V>(p.c, [&](std::int64_t c, std::int64_t lanes) {
            store_block(load_block<V>(d + c, lanes) + grad(out, offset, win, c, lanes), d + c, lanes);
          });
        }
      }
    }
  }
}

void max_backward(float* dx, const float* dy, const float* arg, const Pool2d& p, std::int64_t begin, std::int64_t end) {
  gather_backward(
      dx, p, begin, end, [&](std::int64_t out, std::int64_t offset, const Window&, std::int64_t c, std::int64_t lanes) {
        const std::int64_t at = out * p.c + c;
        // arg holds small integers exactly, so "equal" is "within a half".
        auto chosen = abs(load_block<V>(arg + at, lanes) - V::set1(static_cast<float>(offset))) < V::set1(0.5f);
        return select(chosen, load_block<V>(dy + at, lanes), V::zero());
      });
}

void avg_backward(float* dx, const float* dy, const Pool2d& p, std::int64_t begin, std::int64_t end) {
  gather_backward(dx, p, begin, end,
                  [&](std::int64_t out, std::int64_t, const Window& win, std::int64_t c, std::int64_t lanes) {
                    return load_block<V>(dy + out * p.c + c, lanes) * V::set1(1.0f / static_cast<float>(win.count()));
                  });
}

// Backward when the windows tile the image (stride == pool size): each input
// element lies in at most one window, so every dx element is written exactly
// once, by the thread of its window's output row, with no zeroing pass and no
// arg-max buffer. For each window of output rows [begin, end),
// grad(dx_image, image_offset, out, win) writes the window's elements of image
// n; the elements no window covers (right of the last window, below the last
// row of windows) are zeroed here.
template <class Grad>
void tiled_backward(float* dx, const Pool2d& p, std::int64_t begin, std::int64_t end, Grad grad) {
  const std::int64_t row_floats = p.w * p.c;
  const std::int64_t covered_w = std::min(p.w, (p.out_w - 1) * p.stride_w - p.pad_left + p.pool_w);
  for (std::int64_t row = begin; row < end; ++row) {
    const std::int64_t n = row / p.out_h, oh = row % p.out_h;
    const std::int64_t image = n * p.h * row_floats;
    for (std::int64_t ow = 0; ow < p.out_w; ++ow) grad(dx + image, image, row * p.out_w + ow, window(p, oh, ow));
    const Window rows = window(p, oh, 0);
    const std::int64_t last_row = oh == p.out_h - 1 ? p.h : rows.h1;
    for (std::int64_t ih = rows.h0; ih < last_row; ++ih) {
      const std::int64_t from = ih < rows.h1 ? covered_w * p.c : 0;
      std::memset(dx + image + ih * row_floats + from, 0, static_cast<std::size_t>(row_floats - from) * sizeof(float));
    }
  }
}

template <bool kStream>
void max_backward_tiled_impl(float* dx, const float* dy, const float* x, const Pool2d& p, std::int64_t begin,
                             std::int64_t end) {
  const std::int64_t right = p.c, down = p.w * p.c;
  tiled_backward(dx, p, begin, end, [&](float* dx_image, std::int64_t image, std::int64_t out, const Window& win) {
    const float* x_image = x + image;
    const float* g = dy + out * p.c;
    const std::int64_t first = (win.h0 * p.w + win.w0) * p.c;
    if (is_full_2x2(p, win)) {
      const float* x0 = x_image + first;
      float* d0 = dx_image + first;
      for_blocks<V>(p.c, [&](std::int64_t c, std::int64_t lanes) {
        const V a = load_block<V>(x0 + c, lanes), b = load_block<V>(x0 + right + c, lanes);
        const V e = load_block<V>(x0 + down + c, lanes), f = load_block<V>(x0 + down + right + c, lanes);
        const V best = nan_max(f, nan_max(e, nan_max(b, a)));
        V left = load_block<V>(g + c, lanes);
        put_block<kStream>(claim(a, best, left), d0 + c, lanes);
        put_block<kStream>(claim(b, best, left), d0 + right + c, lanes);
        put_block<kStream>(claim(e, best, left), d0 + down + c, lanes);
        put_block<kStream>(claim(f, best, left), d0 + down + right + c, lanes);
      });
      return;
    }
    for_blocks<V>(p.c, [&](std::int64_t c, std::int64_t lanes) {
      const V best = window_max(x_image, p, win, c, lanes);
      V left = load_block<V>(g + c, lanes);
      for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
        for (std::int64_t iw = win.w0; iw < win.w1; ++iw) {
          const std::int64_t at = (ih * p.w + iw) * p.c;
          put_block<kStream>(claim(load_block<V>(x_image + at + c, lanes), best, left), dx_image + at + c, lanes);
        }
    });
  });
}

void max_backward_tiled(float* dx, const float* dy, const float* x, const Pool2d& p, std::int64_t begin,
                        std::int64_t end) {
  with_streaming(dx, p, p.n * p.h * p.w * p.c,
                 [&](auto stream) { max_backward_tiled_impl<stream>(dx, dy, x, p, begin, end); });
}

template <bool kStream>
void avg_backward_tiled_impl(float* dx, const float* dy, const Pool2d& p, std::int64_t begin, std::int64_t end) {
  const std::int64_t right = p.c, down = p.w * p.c;
  tiled_backward(dx, p, begin, end, [&](float* dx_image, std::int64_t, std::int64_t out, const Window& win) {
    const V scale = V::set1(1.0f / static_cast<float>(win.count()));
    if (is_full_2x2(p, win)) {
      float* d0 = dx_image + (win.h0 * p.w + win.w0) * p.c;
      for_blocks<V>(p.c, [&](std::int64_t c, std::int64_t lanes) {
        const V g = load_block<V>(dy + out * p.c + c, lanes) * scale;
        put_block<kStream>(g, d0 + c, lanes);
        put_block<kStream>(g, d0 + right + c, lanes);
        put_block<kStream>(g, d0 + down + c, lanes);
        put_block<kStream>(g, d0 + down + right + c, lanes);
      });
      return;
    }
    for_blocks<V>(p.c, [&](std::int64_t c, std::int64_t lanes) {
      const V g = load_block<V>(dy + out * p.c + c, lanes) * scale;
      for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
        for (std::int64_t iw = win.w0; iw < win.w1; ++iw)
          put_block<kStream>(g, dx_image + (ih * p.w + iw) * p.c + c, lanes);
    });
  });
}

void avg_backward_tiled(float* dx, const float* dy, const Pool2d& p, std::int64_t begin, std::int64_t end) {
  with_streaming(dx, p, p.n * p.h * p.w * p.c,
                 [&](auto stream) { avg_backward_tiled_impl<stream>(dx, dy, p, begin, end); });
}

// The running maximum sits in best, in L1, as the positions stream past:
// x is read once, in memory order.
void global_max(float* best, const float* x, std::int64_t positions, std::int64_t c, std::int64_t c0, std::int64_t c1) {
  std::memcpy(best + c0, x + c0, static_cast<std::size_t>(c1 - c0) * sizeof(float));
  for (std::int64_t s = 1; s < positions; ++s) {
    const float* row = x + s * c + c0;
    for_blocks<V>(c1 - c0, [&](std::int64_t i, std::int64_t lanes) {
      store_block(nan_max(load_block<V>(row + i, lanes), load_block<V>(best + c0 + i, lanes)), best + c0 + i, lanes);
    });
  }
}

void global_max_backward(float* dx, const float* dy, const float* x, const float* best, float* left,
                         std::int64_t positions, std::int64_t c, std::int64_t c0, std::int64_t c1) {
  std::memcpy(left + c0, dy + c0, static_cast<std::size_t>(c1 - c0) * sizeof(float));
  for (std::int64_t s = 0; s < positions; ++s) {
    const std::int64_t at = s * c + c0;
    for_blocks<V>(c1 - c0, [&](std::int64_t i, std::int64_t lanes) {
      V rest = load_block<V>(left + c0 + i, lanes);
      store_block(claim(load_block<V>(x + at + i, lanes), load_block<V>(best + c0 + i, lanes), rest), dx + at + i,
                  lanes);
      store_block(rest, left + c0 + i, lanes);
    });
  }
}

}  // namespace

extern const PoolKernels pool_kernels = {max_forward,        avg_forward,  argmax,
                                         max_backward,       avg_backward, max_backward_tiled,
                                         avg_backward_tiled, global_max,   global_max_backward};

}  // namespace ranvier::cpu::RANVIER_ISA_NS

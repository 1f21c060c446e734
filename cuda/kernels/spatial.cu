// Upsampling, padding and cropping on the GPU: one thread per output element
// (a gather, so no atomics). The nearest backward adds its block in the CPU's
// order (the same bits); the bilinear ones use the CPU's taps
// (cpu::bilinear_taps) and agree with it to rounding.
#include <algorithm>

#include "ranvier_cuda/launch.cuh"
#include "ranvier_cuda/spatial.h"

namespace ranvier::cuda {

namespace {

// Element e of an (N, H, W, C) array: image n, row y, column x, channel ch.
template <class I>
struct Nhwc {
  I n, y, x, ch;

  __device__ Nhwc(I e, I h, I w, I c) : ch(e % c) {
    const I pixel = e / c, row = pixel / w;
    x = pixel % w;
    y = row % h;
    n = row / h;
  }
};

template <class I>
__global__ void upsample_kernel(float* y, const float* x, I h, I w, I c, I size_h, I size_w, I count) {
  const I out_h = h * size_h, out_w = w * size_w;
  for (I e = grid_start<I>(); e < count; e += grid_stride<I>()) {
    const Nhwc<I> o(e, out_h, out_w, c);
    y[e] = x[((o.n * h + o.y / size_h) * w + o.x / size_w) * c + o.ch];
  }
}

template <class I>
__global__ void upsample_backward_kernel(float* dx, const float* dy, I h, I w, I c, I size_h, I size_w, I count) {
  const I out_h = h * size_h, out_w = w * size_w;
  for (I e = grid_start<I>(); e < count; e += grid_stride<I>()) {
    const Nhwc<I> i(e, h, w, c);
    const float* block = dy + ((i.n * out_h + i.y * size_h) * out_w + i.x * size_w) * c + i.ch;
    float sum = 0.0f;
    for (I a = 0; a < size_h; ++a)
      for (I b = 0; b < size_w; ++b) sum += block[(a * out_w + b) * c];
    dx[e] = sum;
  }
}

// One row of x (W, C) at the column taps tw: as cpu's row_at.
__device__ __forceinline__ float row_at(const float* row, const Taps& tw, std::int64_t c) {
  const float a = row[tw.i0 * c];
  return tw.w1 == 0.0f ? a : tw.w0 * a + tw.w1 * row[tw.i1 * c];
}

template <class I>
__global__ void bilinear_kernel(float* y, const float* x, I h, I w, I c, I size_h, I size_w, I count) {
  const I out_h = h * size_h, out_w = w * size_w;
  for (I e = grid_start<I>(); e < count; e += grid_stride<I>()) {
    const Nhwc<I> o(e, out_h, out_w, c);
    const Taps th = cpu::bilinear_taps(o.y, h, size_h), tw = cpu::bilinear_taps(o.x, w, size_w);
    const float* image = x + o.n * h * w * c + o.ch;
    const float r0 = row_at(image + th.i0 * w * c, tw, c);
    y[e] = th.w1 == 0.0f ? r0 : th.w0 * r0 + th.w1 * row_at(image + th.i1 * w * c, tw, c);
  }
}

// The weight with which output o reads input i along one axis (0 when it does not).
__device__ __forceinline__ float tap_weight(const Taps& t, std::int64_t i) {
  float weight = t.i0 == i ? t.w0 : 0.0f;
  if (t.w1 != 0.0f && t.i1 == i) weight += t.w1;
  return weight;
}

template <class I>
__global__ void bilinear_backward_kernel(float* dx, const float* dy, I h, I w, I c, I size_h, I size_w, I count) {
  const I out_h = h * size_h, out_w = w * size_w;
  for (I e = grid_start<I>(); e < count; e += grid_stride<I>()) {
    const Nhwc<I> i(e, h, w, c);
    // The outputs that can read (i.y, i.x), with one of margin for rounding (as on the CPU).
    const I oh0 = (i.y - 1) * size_h - 1, oh1 = (i.y + 2) * size_h + 1;
    const I ow0 = (i.x - 1) * size_w - 1, ow1 = (i.x + 2) * size_w + 1;
    float sum = 0.0f;
    for (I oh = oh0 > 0 ? oh0 : 0; oh < oh1 && oh < out_h; ++oh) {
      const float wh = tap_weight(cpu::bilinear_taps(oh, h, size_h), i.y);
      if (wh == 0.0f) continue;
      const float* g = dy + (i.n * out_h + oh) * out_w * c + i.ch;
      for (I ow = ow0 > 0 ? ow0 : 0; ow < ow1 && ow < out_w; ++ow) {
        const float ww = tap_weight(cpu::bilinear_taps(ow, w, size_w), i.x);
        if (ww != 0.0f) sum += g[ow * c] * wh * ww;
      }
    }
    dx[e] = sum;
  }
}

template <class I>
__global__ void shift_kernel(float* y, const float* x, I h, I w, I c, I out_h, I out_w, I top, I left, I count) {
  for (I e = grid_start<I>(); e < count; e += grid_stride<I>()) {
    const Nhwc<I> o(e, out_h, out_w, c);
    const I ih = o.y - top, iw = o.x - left;
    y[e] = ih >= 0 && ih < h && iw >= 0 && iw < w ? x[((o.n * h + ih) * w + iw) * c + o.ch] : 0.0f;
  }
}

// Launches `kernel` over `count` elements with 32-bit indices when every
// index stays below kInt32Bound; nothing for none.
template <class Launch>
cudaError_t launch_over(std::int64_t count, std::int64_t largest, Launch launch) {
  if (count == 0) return cudaSuccess;
  return with_index_type(std::max(count, largest) < kInt32Bound, [&](auto index) {
    launch(index, grid_for(count));
    return cudaGetLastError();
  });
}

// Launches pick(I{}), one of the four upsampling kernels (which share their
// arguments), over the upsampled image (forward) or over x (backward).
template <class Pick>
cudaError_t launch_upsample(float* out, const float* in, const Upsample2d& u, bool backward, cudaStream_t stream,
                            Pick pick) {
  if (is_empty(u)) return cudaSuccess;
  const std::int64_t pixels = u.n * u.h * u.w * u.c, upsampled = pixels * u.size_h * u.size_w;
  // Every index stays below these (the bilinear backward's ranges of rows and columns too).
  const std::int64_t largest = std::max({upsampled, (u.h + 2) * u.size_h + 1, (u.w + 2) * u.size_w + 1});
  const std::int64_t count = backward ? pixels : upsampled;
  return launch_over(count, largest, [&](auto index, unsigned grid) {
    using I = decltype(index);
    pick(index)<<<grid, kBlock, 0, stream>>>(out, in, I(u.h), I(u.w), I(u.c), I(u.size_h), I(u.size_w), I(count));
  });
}

}  // namespace

cudaError_t upsample2d_nearest(float* y, const float* x, const Upsample2d& u, cudaStream_t stream) {
  return launch_upsample(y, x, u, false, stream, [](auto index) { return upsample_kernel<decltype(index)>; });
}

cudaError_t upsample2d_nearest_backward(float* dx, const float* dy, const Upsample2d& u, cudaStream_t stream) {
  return launch_upsample(dx, dy, u, true, stream, [](auto index) { return upsample_backward_kernel<decltype(index)>; });
}

cudaError_t upsample2d_bilinear(float* y, const float* x, const Upsample2d& u, cudaStream_t stream) {
  return launch_upsample(y, x, u, false, stream, [](auto index) { return bilinear_kernel<decltype(index)>; });
}

cudaError_t upsample2d_bilinear_backward(float* dx, const float* dy, const Upsample2d& u, cudaStream_t stream) {
  return launch_upsample(dx, dy, u, true, stream, [](auto index) { return bilinear_backward_kernel<decltype(index)>; });
}

cudaError_t shift2d(float* y, const float* x, const Shift2d& s, cudaStream_t stream) {
  if (is_empty(s)) return cudaSuccess;
  const std::int64_t count = s.n * s.out_h * s.out_w * s.c;
  // Every index into x and y, and the offsets, stay below these.
  const std::int64_t largest = std::max({s.n * s.h * s.w * s.c, s.h + s.out_h, s.w + s.out_w});
  return launch_over(count, largest, [&](auto index, unsigned grid) {
    using I = decltype(index);
    shift_kernel<I><<<grid, kBlock, 0, stream>>>(y, x, I(s.h), I(s.w), I(s.c), I(s.out_h), I(s.out_w), I(s.top),
                                                 I(s.left), I(count));
  });
}

}  // namespace ranvier::cuda

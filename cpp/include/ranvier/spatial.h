// Spatial resampling of NHWC images: nearest and bilinear upsampling, and zero padding or
// cropping. One "shift" serves padding and cropping, and each is the other's
// backward (the gradient of a padding crops dy; that of a cropping pads it).
#pragma once

#include <cstdint>

#include "ranvier/index_math.h"

namespace ranvier::cpu {

// Upsampling by integer factors: input (N,H,W,C), output (N, H * size_h, W * size_w, C).
struct Upsample2d {
  std::int64_t n, h, w, c;
  std::int64_t size_h, size_w;
  bool bilinear;  // else nearest
};

// The two input taps of output o along one axis of a bilinear upsampling of
// `in` elements by `size`: out[o] = w0 * x[i0] + w1 * x[i1], and w1 == 0 means
// x[i1] is not read (a NaN or Inf there stays out). The source coordinate is
// (o + 0.5) / size - 0.5 clamped at 0, with i1 = i0 at the last element:
// PyTorch's align_corners=False, which Keras 3's UpSampling2D gives on every
// backend when upsampling. It is computed in double (PyTorch: float), so it
// is exact for any size and the same on every ISA and on the GPU.
struct Taps {
  std::int64_t i0, i1;
  float w0, w1;
};

RANVIER_HOST_DEVICE inline Taps bilinear_taps(std::int64_t o, std::int64_t in, std::int64_t size) {
  double src = (static_cast<double>(o) + 0.5) / static_cast<double>(size) - 0.5;
  src = src < 0.0 ? 0.0 : src;
  Taps t;
  t.i0 = static_cast<std::int64_t>(src);
  t.i1 = t.i0 < in - 1 ? t.i0 + 1 : t.i0;
  t.w1 = static_cast<float>(src - static_cast<double>(t.i0));
  t.w0 = 1.0f - t.w1;
  return t;
}

// x (N,H,W,C) -> y (N,H*size_h,W*size_w,C): y[n, oh, ow] = x[n, oh / size_h, ow / size_w].
void upsample2d_nearest(float* y, const float* x, const Upsample2d& u);

// dy (N,H*size_h,W*size_w,C) -> dx (N,H,W,C): each dx element is the sum of
// its size_h x size_w block of dy, added in row-major block order.
void upsample2d_nearest_backward(float* dx, const float* dy, const Upsample2d& u);

// x (N,H,W,C) -> y (N,H*size_h,W*size_w,C): y[n, oh, ow] = h0 * (w0 * x[i0, j0]
// + w1 * x[i0, j1]) + h1 * (w0 * x[i1, j0] + w1 * x[i1, j1]) with the taps of
// bilinear_taps along each axis (PyTorch's order of operations).
void upsample2d_bilinear(float* y, const float* x, const Upsample2d& u);

// dy (N,H*size_h,W*size_w,C) -> dx (N,H,W,C): each dy spread over its taps by
// their weights, added in output order (the result does not depend on threads).
void upsample2d_bilinear_backward(float* dx, const float* dy, const Upsample2d& u);

// x (N,H,W,C) placed in y (N,OUT_H,OUT_W,C) with its corner at (top, left):
// y[n, oh, ow] = x[n, oh - top, ow - left] where that is inside x, else 0.
// Positive top/left pad, negative ones crop.
struct Shift2d {
  std::int64_t n, h, w, c;
  std::int64_t out_h, out_w;
  std::int64_t top, left;
};

void shift2d(float* y, const float* x, const Shift2d& s);

// Whether the arrays hold no element: x and y of an upsampling, y of a shift
// (then nothing is read or written). An empty array's other sizes may be
// huge, so the kernels form no product of them before asking.
inline bool is_empty(const Upsample2d& u) { return u.n == 0 || u.h == 0 || u.w == 0 || u.c == 0; }
inline bool is_empty(const Shift2d& s) { return s.n == 0 || s.out_h == 0 || s.out_w == 0 || s.c == 0; }

}  // namespace ranvier::cpu

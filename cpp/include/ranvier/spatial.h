// Spatial resampling of NHWC images: nearest upsampling, and zero padding or
// cropping. One "shift" serves padding and cropping, and each is the other's
// backward (the gradient of a padding crops dy; that of a cropping pads it).
#pragma once

#include <cstdint>

namespace ranvier::cpu {

// Nearest upsampling by integer factors: input (N,H,W,C), output (N, H * size_h, W * size_w, C).
struct Upsample2d {
  std::int64_t n, h, w, c;
  std::int64_t size_h, size_w;
};

// x (N,H,W,C) -> y (N,H*size_h,W*size_w,C): y[n, oh, ow] = x[n, oh / size_h, ow / size_w].
void upsample2d_nearest(float* y, const float* x, const Upsample2d& u);

// dy (N,H*size_h,W*size_w,C) -> dx (N,H,W,C): each dx element is the sum of
// its size_h x size_w block of dy, added in row-major block order.
void upsample2d_nearest_backward(float* dx, const float* dy, const Upsample2d& u);

// x (N,H,W,C) placed in y (N,OUT_H,OUT_W,C) with its corner at (top, left):
// y[n, oh, ow] = x[n, oh - top, ow - left] where that is inside x, else 0.
// Positive top/left pad, negative ones crop.
struct Shift2d {
  std::int64_t n, h, w, c;
  std::int64_t out_h, out_w;
  std::int64_t top, left;
};

void shift2d(float* y, const float* x, const Shift2d& s);

}  // namespace ranvier::cpu

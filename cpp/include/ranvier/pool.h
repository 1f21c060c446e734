// Max and average pooling over NHWC images (1-D: H = 1), global max pooling,
// and their backward.
#pragma once

#include <cstdint>

namespace ranvier::cpu {

// Geometry of one pooling. Window (oh, ow) covers input rows
// [oh * stride_h - pad_top, + pool_h) and columns [ow * stride_w - pad_left,
// + pool_w), clipped to the image: padding never takes part, so max ignores
// it and avg divides by the number of elements inside the image (Keras/TF
// "same"). Every window must hold at least one element of the image.
struct Pool2d {
  std::int64_t n, h, w, c;  // input (N,H,W,C)
  std::int64_t pool_h, pool_w, stride_h, stride_w;
  std::int64_t pad_top, pad_left;
  std::int64_t out_h, out_w;  // output (N,HO,WO,C)
};

// x (N,H,W,C) -> y (N,HO,WO,C): the maximum of each window.
void max_pool2d(float* y, const float* x, const Pool2d& p);

// x (N,H,W,C) -> y (N,HO,WO,C): the mean of each window's elements inside the image.
void avg_pool2d(float* y, const float* x, const Pool2d& p);

// dy (N,HO,WO,C), x (N,H,W,C) -> dx (N,H,W,C): each dy goes to its window's
// maximum; on ties to the first maximum in row-major window order. Overlapping
// windows add up, in a fixed order (the result does not depend on threads).
void max_pool2d_backward(float* dx, const float* dy, const float* x, const Pool2d& p);

// dy (N,HO,WO,C) -> dx (N,H,W,C): each dy spread evenly over its window.
void avg_pool2d_backward(float* dx, const float* dy, const Pool2d& p);

// x (N,S,C) -> y (N,C): the maximum over the S >= 1 positions of each image
// and channel, NaN when any of them is NaN (global max pooling, S = L or H*W).
void global_max_pool(float* y, const float* x, std::int64_t n, std::int64_t positions, std::int64_t c);

// dy (N,C), x (N,S,C) -> dx (N,S,C): each dy to the first maximum of its
// channel (the first NaN where there is one, as np.argmax), zero elsewhere.
void global_max_pool_backward(float* dx, const float* dy, const float* x, std::int64_t n, std::int64_t positions,
                              std::int64_t c);

}  // namespace ranvier::cpu

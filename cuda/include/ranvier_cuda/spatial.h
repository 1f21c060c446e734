// Nearest and bilinear upsampling, zero padding and cropping of NHWC images on the GPU:
// the same operations as ranvier/spatial.h (ranvier::cpu), plus the stream.
#pragma once

#include <cuda_runtime_api.h>

#include "ranvier/spatial.h"

namespace ranvier::cuda {

using cpu::Shift2d;
using cpu::Taps;
using cpu::Upsample2d;

// x (N,H,W,C) -> y (N,H*size_h,W*size_w,C): y[n, oh, ow] = x[n, oh / size_h, ow / size_w].
cudaError_t upsample2d_nearest(float* y, const float* x, const Upsample2d& u, cudaStream_t stream);

// dy (N,H*size_h,W*size_w,C) -> dx (N,H,W,C): each dx element sums its block of dy in row-major order.
cudaError_t upsample2d_nearest_backward(float* dx, const float* dy, const Upsample2d& u, cudaStream_t stream);

// x (N,H,W,C) -> y (N,H*size_h,W*size_w,C): bilinear, with cpu::bilinear_taps' taps and order.
cudaError_t upsample2d_bilinear(float* y, const float* x, const Upsample2d& u, cudaStream_t stream);

// dy -> dx (N,H,W,C): each dx element gathers the dy that read it, weighted, in output order.
cudaError_t upsample2d_bilinear_backward(float* dx, const float* dy, const Upsample2d& u, cudaStream_t stream);

// y[n, oh, ow] = x[n, oh - top, ow - left] where that is inside x, else 0.
cudaError_t shift2d(float* y, const float* x, const Shift2d& s, cudaStream_t stream);

}  // namespace ranvier::cuda

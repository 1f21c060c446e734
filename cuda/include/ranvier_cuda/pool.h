// Max and average pooling over NHWC images (1-D: H = 1) and global max
// pooling on the GPU: the same
// operations as ranvier/pool.h (ranvier::cpu), plus the stream.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ranvier/pool.h"

namespace ranvier::cuda {

using cpu::Pool2d;

// x (N,H,W,C) -> y (N,HO,WO,C): the maximum of each window.
cudaError_t max_pool2d(float* y, const float* x, const Pool2d& p, cudaStream_t stream);

// x (N,H,W,C) -> y (N,HO,WO,C): the mean of each window's elements inside the image.
cudaError_t avg_pool2d(float* y, const float* x, const Pool2d& p, cudaStream_t stream);

// dy (N,HO,WO,C), x (N,H,W,C) -> dx (N,H,W,C): each dy goes to its window's
// first maximum in row-major window order. arg (N,HO,WO,C) is scratch for
// those positions. Overlapping windows add up in output order, as on the CPU.
cudaError_t max_pool2d_backward(float* dx, const float* dy, const float* x, const Pool2d& p, std::int32_t* arg,
                                cudaStream_t stream);

// dy (N,HO,WO,C) -> dx (N,H,W,C): each dy spread evenly over its window.
cudaError_t avg_pool2d_backward(float* dx, const float* dy, const Pool2d& p, cudaStream_t stream);

// x (N,S,C) -> y (N,C): the maximum over the S >= 1 positions, NaN when any is NaN.
cudaError_t global_max_pool(float* y, const float* x, std::int64_t n, std::int64_t positions, std::int64_t c,
                            cudaStream_t stream);

// dy (N,C), x (N,S,C) -> dx (N,S,C): each dy to its channel's first maximum
// (the first NaN where there is one), zero elsewhere.
cudaError_t global_max_pool_backward(float* dx, const float* dy, const float* x, std::int64_t n, std::int64_t positions,
                                     std::int64_t c, cudaStream_t stream);

}  // namespace ranvier::cuda

// 2-D convolution on the GPU (NHWC images, HWIO kernels): the same operations
// as ranvier/conv.h (ranvier::cpu), plus the workspace and the stream. Every
// function only enqueues work and returns the first launch error.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ranvier/activation.h"
#include "ranvier/conv.h"

namespace ranvier::cuda {

using cpu::Conv2dShape;

// Floats of device workspace conv2d needs for shape s (the patch matrix of a
// chunk of output rows; 0 when x is its own patch matrix).
std::int64_t conv2d_workspace(const Conv2dShape& s);

// x (N,H,W,C), w (KH,KW,C,K), b (K,) or null -> y (N,HO,WO,K), all contiguous:
// y = act(conv(x, w) + b), bias and activation fused into the GEMM's store.
// Requires s.ho() >= 1 and s.wo() >= 1; workspace holds conv2d_workspace(s) floats.
cudaError_t conv2d(float* y, const float* x, const float* w, const float* b, const Conv2dShape& s, Activation act,
                   float* workspace, cudaStream_t stream);

// Floats of device workspace conv2d_backward needs when it computes dx and/or
// dw with activation act (patch chunk, act'(saved) * dy, split dw partials).
std::int64_t conv2d_backward_workspace(const Conv2dShape& s, bool want_dx, bool want_dw, Activation act);

// Backward of conv2d. dy (N,HO,WO,K) contiguous; saved (N,HO,WO,K) is y for
// relu/sigmoid/tanh, the pre-activation z for gelu, unused for none.
// -> dx (N,H,W,C), dw (KH,KW,C,K), db (K,) contiguous; any may be null to skip
// it. workspace holds conv2d_backward_workspace(s, dx != null, dw != null, act)
// floats. Deterministic: no atomics, sums in a fixed order.
cudaError_t conv2d_backward(float* dx, float* dw, float* db, const float* dy, const float* saved, const float* x,
                            const float* w, const Conv2dShape& s, Activation act, float* workspace,
                            cudaStream_t stream);

// The transposed convolution (ranvier/conv.h's conv2d_transpose): x
// (N,HI,WI,C), w (KH,KW,F,C), b (F,) or null -> y (N,s.h,s.w,F), conv2d_backward's
// dx of dy = x plus b. workspace holds conv2d_transpose_workspace(s) floats.
std::int64_t conv2d_transpose_workspace(const Conv2dShape& s);
cudaError_t conv2d_transpose(float* y, const float* x, const float* w, const float* b, const Conv2dShape& s,
                             float* workspace, cudaStream_t stream);

// Its backward: dx = conv2d(dy, w), dw = the weight gradient of s with input
// dy and output gradient x, db = the sums of dy; any may be null.
// workspace holds conv2d_transpose_backward_workspace(s) floats.
std::int64_t conv2d_transpose_backward_workspace(const Conv2dShape& s);
cudaError_t conv2d_transpose_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w,
                                      const Conv2dShape& s, float* workspace, cudaStream_t stream);

}  // namespace ranvier::cuda

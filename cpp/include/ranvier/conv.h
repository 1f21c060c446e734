// 2-D convolution (NHWC images, HWIO kernels) as im2col + GEMM.
#pragma once

#include <cstdint>
#include <string>

#include "ranvier/activation.h"

namespace ranvier::cpu {

// Sizes of one convolution. Padding is explicit per side (the Python layer
// turns "valid"/"same" into numbers); the output size follows from it:
//   ho = (h + pad_top + pad_bottom - ((kh - 1) * dilation_h + 1)) / stride_h + 1
struct Conv2dShape {
  std::int64_t n, h, w, c;  // input x (N, H, W, C)
  std::int64_t kh, kw, k;   // kernel w (KH, KW, C, K)
  std::int64_t stride_h, stride_w;
  std::int64_t dilation_h, dilation_w;
  std::int64_t pad_top, pad_bottom, pad_left, pad_right;

  std::int64_t ho() const { return out_size(h, pad_top + pad_bottom, kh, dilation_h, stride_h); }
  std::int64_t wo() const { return out_size(w, pad_left + pad_right, kw, dilation_w, stride_w); }

  std::int64_t patch_rows() const { return n * ho() * wo(); }  // rows of the im2col matrix and of y
  std::int64_t patch_cols() const { return kh * kw * c; }      // its columns, the rows of w

  // A 1x1 kernel with stride 1 and no padding reads x (N*H*W, C) as the patch
  // matrix itself (as does C = 0, whose patch matrix has no columns).
  bool needs_im2col() const {
    const bool unpadded = pad_top == 0 && pad_bottom == 0 && pad_left == 0 && pad_right == 0;
    const bool one_by_one = kh == 1 && kw == 1 && stride_h == 1 && stride_w == 1;
    return patch_cols() != 0 && !(one_by_one && unpadded);
  }

  // What is wrong with these sizes for a kernel, or "" (checked by the CPU and
  // CUDA bindings alike). Parameters stay below 2^31 so size arithmetic cannot
  // overflow int64.
  std::string problem() const {
    constexpr std::int64_t kMaxParam = std::int64_t{1} << 31;
    auto outside = [&](const char* name, std::int64_t v, std::int64_t lo) {
      return v < lo || v >= kMaxParam
                 ? std::string(name) + " must be in [" + std::to_string(lo) + ", 2^31), got " + std::to_string(v)
                 : std::string();
    };
    if (kh < 1 || kw < 1)
      return "w must have a kernel of at least 1x1, got " + std::to_string(kh) + "x" + std::to_string(kw);
    for (std::string e :
         {outside("stride", stride_h, 1), outside("stride", stride_w, 1), outside("dilation", dilation_h, 1),
          outside("dilation", dilation_w, 1), outside("padding", pad_top, 0), outside("padding", pad_bottom, 0),
          outside("padding", pad_left, 0), outside("padding", pad_right, 0)})
      if (!e.empty()) return e;
    if (ho() < 1 || wo() < 1) return "the dilated kernel is larger than the padded input";
    return "";
  }

  // Number of output positions along one axis; < 1 when the dilated kernel
  // does not fit in the padded input.
  static std::int64_t out_size(std::int64_t in, std::int64_t pad, std::int64_t k, std::int64_t dilation,
                               std::int64_t stride) {
    const std::int64_t span = in + pad - ((k - 1) * dilation + 1);
    return span < 0 ? 0 : span / stride + 1;
  }
};

// The sizes the CPU and CUDA drivers derive from a shape, computed once.
struct ConvGeometry {
  Conv2dShape s;
  std::int64_t ho, wo;
  std::int64_t rows;  // N*HO*WO: rows of the patch matrix and of y
  std::int64_t kdim;  // KH*KW*C: columns of the patch matrix, rows of w
  bool direct;        // x itself is the patch matrix (Conv2dShape::needs_im2col)

  explicit ConvGeometry(const Conv2dShape& shape)
      : s(shape), ho(s.ho()), wo(s.wo()), rows(s.patch_rows()), kdim(s.patch_cols()), direct(!s.needs_im2col()) {}
};

// x (N,H,W,C), w (KH,KW,C,K), b (K,) or null -> y (N,HO,WO,K), all contiguous:
// y = act(conv(x, w) + b), bias and activation fused into the GEMM's store.
// Requires s.ho() >= 1 and s.wo() >= 1.
void conv2d(float* y, const float* x, const float* w, const float* b, const Conv2dShape& s, Activation act);

// Backward of conv2d. dy (N,HO,WO,K) contiguous; `saved` (N,HO,WO,K) is y for
// relu/sigmoid/tanh, the pre-activation z for gelu, unused for none.
// -> dx (N,H,W,C), dw (KH,KW,C,K), db (K,) contiguous; any of them may be null
// to skip it.
void conv2d_backward(float* dx, float* dw, float* db, const float* dy, const float* saved, const float* x,
                     const float* w, const Conv2dShape& s, Activation act);

// The transposed convolution (Keras' Conv2DTranspose) is the input gradient
// of the convolution s of its output: x (N,HI,WI,C) with s.ho() = HI,
// s.wo() = WI, s.k = C; w (KH,KW,F,C) is s's HWIO kernel with s.c = F;
// b (F,) or null -> y (N,s.h,s.w,F) = conv2d_backward's dx of dy = x, plus b.
void conv2d_transpose(float* y, const float* x, const float* w, const float* b, const Conv2dShape& s);

// Backward of conv2d_transpose: dy (N,s.h,s.w,F) -> dx (N,HI,WI,C) = conv2d(dy, w)
// (the convolution s itself), dw (KH,KW,F,C) = s's weight gradient with dy as
// its input and x as its output gradient, db (F,) = the sums of dy. Any output
// may be null to skip it.
void conv2d_transpose_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w,
                               const Conv2dShape& s);

}  // namespace ranvier::cpu

// Per-ISA kernels of the direct convolution (conv_direct_simd.cpp), used by
// conv.cpp for images with few channels (a CNN's first layer: C = 1 or 3).
// There C * KH * KW is a handful of values per output, so im2col + GEMM would
// spend its time building patches and on micro-tiles a few steps deep; these
// read x and dz in place and keep the output channels in registers.
#pragma once

#include <cstdint>

#include "isa_table.h"
#include "ranvier/conv.h"

namespace ranvier::cpu {

struct ConvDirectKernels {
  // y rows [r0, r1) of (N*HO*WO, K): act(sum over the kernel elements inside
  // the image of x * w, + b). b may be null.
  void (*forward)(float* y, const float* x, const float* w, const float* b, const Conv2dShape& s, Activation act,
                  std::int64_t r0, std::int64_t r1);
  // dx pixels [p0, p1) of (N*H*W, C): each gathers dz (N*HO*WO, K) of the
  // outputs whose windows cover it, through w.
  void (*backward_input)(float* dx, const float* dz, const float* w, const Conv2dShape& s, std::int64_t p0,
                         std::int64_t p1);
  // dw (KH*KW*C, K) += the products of output pixels [r0, r1): their patches
  // of x (read in place) times their rows of dz (N*HO*WO, K), when dw's sums
  // fit in registers (a 3x3 kernel, few channels); false, nothing done,
  // otherwise.
  bool (*backward_weights_in_registers)(float* dw, const float* x, const float* dz, const Conv2dShape& s,
                                        std::int64_t r0, std::int64_t r1);
  // dw (kdim, K) += cols^T @ dz for patches cols (rows, kdim) and dz (rows, K).
  void (*backward_weights_patches)(float* dw, const float* cols, const float* dz, std::int64_t rows, std::int64_t kdim,
                                   std::int64_t k);
};

RANVIER_DECLARE_ISA_TABLE(ConvDirectKernels, conv_direct_kernels)

}  // namespace ranvier::cpu

// Per-ISA entry points of the spatial family (see spatial_simd.cpp). Each
// works on a range [begin, end) of rows so that spatial.cpp can split the
// work among threads; each row's writes belong to that row alone.
#pragma once

#include <cstdint>

#include "isa_table.h"
#include "ranvier/spatial.h"

namespace ranvier::cpu {

struct SpatialKernels {
  // Input rows n * H + ih: writes the size_h output rows that repeat row ih.
  void (*upsample_nearest)(float* y, const float* x, const Upsample2d& u, std::int64_t begin, std::int64_t end);
  // Input rows n * H + ih: writes dx row ih from its size_h rows of dy.
  void (*upsample_nearest_backward)(float* dx, const float* dy, const Upsample2d& u, std::int64_t begin,
                                    std::int64_t end);
  // Output rows n * OUT_H + oh; cols holds the OUT_W column taps.
  void (*upsample_bilinear)(float* y, const float* x, const Upsample2d& u, const Taps* cols, std::int64_t begin,
                            std::int64_t end);
  // Input rows n * H + ih: writes dx row ih from the rows of dy that read it.
  void (*upsample_bilinear_backward)(float* dx, const float* dy, const Upsample2d& u, const Taps* cols,
                                     std::int64_t begin, std::int64_t end);
  // Output rows n * OUT_H + oh.
  void (*shift)(float* y, const float* x, const Shift2d& s, std::int64_t begin, std::int64_t end);
};

RANVIER_DECLARE_ISA_TABLE(SpatialKernels, spatial_kernels)

}  // namespace ranvier::cpu

// Spatial family dispatch: ISA choice and threading over image rows.
#include <algorithm>

#include "ranvier/runtime.h"
#include "spatial_kernels.h"

namespace ranvier::cpu {

namespace {

// Floats moved per thread below which waking another thread costs more than it saves.
constexpr std::int64_t kGrain = 1 << 15;

std::int64_t grain_rows(std::int64_t floats_per_row) {
  return std::max<std::int64_t>(1, kGrain / std::max<std::int64_t>(1, floats_per_row));
}

}  // namespace

void upsample2d_nearest(float* y, const float* x, const Upsample2d& u) {
  const SpatialKernels& k = RANVIER_ISA_TABLE(spatial_kernels);
  parallel_for(u.n * u.h, grain_rows(u.size_h * u.w * u.size_w * u.c),
               [&](std::int64_t begin, std::int64_t end) { k.upsample_nearest(y, x, u, begin, end); });
}

void upsample2d_nearest_backward(float* dx, const float* dy, const Upsample2d& u) {
  const SpatialKernels& k = RANVIER_ISA_TABLE(spatial_kernels);
  parallel_for(u.n * u.h, grain_rows(u.size_h * u.w * u.size_w * u.c),
               [&](std::int64_t begin, std::int64_t end) { k.upsample_nearest_backward(dx, dy, u, begin, end); });
}

void shift2d(float* y, const float* x, const Shift2d& s) {
  const SpatialKernels& k = RANVIER_ISA_TABLE(spatial_kernels);
  parallel_for(s.n * s.out_h, grain_rows(s.out_w * s.c),
               [&](std::int64_t begin, std::int64_t end) { k.shift(y, x, s, begin, end); });
}

}  // namespace ranvier::cpu

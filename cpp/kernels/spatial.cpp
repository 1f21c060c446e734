// Spatial family dispatch: ISA choice and threading over image rows.
#include <algorithm>
#include <vector>

#include "ranvier/runtime.h"
#include "spatial_kernels.h"

namespace ranvier::cpu {

namespace {

// Floats moved per thread below which waking another thread costs more than it saves.
constexpr std::int64_t kGrain = 1 << 15;

std::int64_t grain_rows(std::int64_t floats_per_row) {
  return std::max<std::int64_t>(1, kGrain / std::max<std::int64_t>(1, floats_per_row));
}

// The taps of every output column.
std::vector<Taps> column_taps(const Upsample2d& u) {
  std::vector<Taps> cols(static_cast<std::size_t>(u.w * u.size_w));
  for (std::size_t ow = 0; ow < cols.size(); ++ow)
    cols[ow] = bilinear_taps(static_cast<std::int64_t>(ow), u.w, u.size_w);
  return cols;
}

}  // namespace

void upsample2d_nearest(float* y, const float* x, const Upsample2d& u) {
  if (is_empty(u)) return;
  const SpatialKernels& k = RANVIER_ISA_TABLE(spatial_kernels);
  parallel_for(u.n * u.h, grain_rows(u.size_h * u.w * u.size_w * u.c),
               [&](std::int64_t begin, std::int64_t end) { k.upsample_nearest(y, x, u, begin, end); });
}

void upsample2d_nearest_backward(float* dx, const float* dy, const Upsample2d& u) {
  if (is_empty(u)) return;
  const SpatialKernels& k = RANVIER_ISA_TABLE(spatial_kernels);
  parallel_for(u.n * u.h, grain_rows(u.size_h * u.w * u.size_w * u.c),
               [&](std::int64_t begin, std::int64_t end) { k.upsample_nearest_backward(dx, dy, u, begin, end); });
}

void upsample2d_bilinear(float* y, const float* x, const Upsample2d& u) {
  if (is_empty(u)) return;
  const SpatialKernels& k = RANVIER_ISA_TABLE(spatial_kernels);
  const std::vector<Taps> cols = column_taps(u);
  parallel_for(u.n * u.h * u.size_h, grain_rows(4 * u.w * u.size_w * u.c),
               [&](std::int64_t begin, std::int64_t end) { k.upsample_bilinear(y, x, u, cols.data(), begin, end); });
}

void upsample2d_bilinear_backward(float* dx, const float* dy, const Upsample2d& u) {
  if (is_empty(u)) return;
  const SpatialKernels& k = RANVIER_ISA_TABLE(spatial_kernels);
  const std::vector<Taps> cols = column_taps(u);
  parallel_for(u.n * u.h, grain_rows(2 * u.size_h * u.w * u.size_w * u.c), [&](std::int64_t begin, std::int64_t end) {
    k.upsample_bilinear_backward(dx, dy, u, cols.data(), begin, end);
  });
}

void shift2d(float* y, const float* x, const Shift2d& s) {
  if (is_empty(s)) return;
  const SpatialKernels& k = RANVIER_ISA_TABLE(spatial_kernels);
  parallel_for(s.n * s.out_h, grain_rows(s.out_w * s.c),
               [&](std::int64_t begin, std::int64_t end) { k.shift(y, x, s, begin, end); });
}

}  // namespace ranvier::cpu

// Packing, compiled once per ISA: copies blocks of A and B into the
// contiguous, zero-padded panels the micro-kernel streams through (BLIS
// layout), a vector at a time. Works from any strides: a transposed operand
// is gathered a vector at a time instead of copied element by element.
#include <algorithm>
#include <climits>

#include "gemm/gemm_kernels.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;

// The first n of the floats src[0], src[stride], ... (n <= lanes), zeros after.
inline V load_strided(const float* src, std::int64_t stride, int n) {
  if (stride == 1) return n == V::kLanes ? V::load(src) : V::load_partial(src, n);
  if (stride <= INT_MAX / V::kLanes && stride >= -(INT_MAX / V::kLanes)) return V::gather_partial(src, stride, n);
  float lanes[V::kLanes] = {};
  for (int i = 0; i < n; ++i) lanes[i] = src[i * stride];
  return V::load(lanes);
}

// dst[0, width) = src[0], src[stride], ... (n of them), then zeros.
inline void copy_padded(float* dst, const float* src, std::int64_t stride, int n, int width) {
  for (int j = 0; j < width; j += V::kLanes) {
    const int avail = std::clamp(n - j, 0, V::kLanes);
    const V v = avail > 0 ? load_strided(src + j * stride, stride, avail) : V::zero();
    if (width - j >= V::kLanes) {
      v.store(dst + j);
    } else {
      v.store_partial(dst + j, width - j);
    }
  }
}

// a (m, k) -> panels of mr rows: panel[ip][p][i] = a(ip * mr + i, p)
void pack_a(float* dst, MatrixView a, std::int64_t m, std::int64_t k, int mr) {
  for (std::int64_t i0 = 0; i0 < m; i0 += mr, dst += k * mr) {
    const int rows = static_cast<int>(std::min<std::int64_t>(mr, m - i0));
    const float* src = a.data + i0 * a.row_stride;
    for (std::int64_t p = 0; p < k; ++p) copy_padded(dst + p * mr, src + p * a.col_stride, a.row_stride, rows, mr);
  }
}

// b (k, n) -> panels of nr columns: panel[jp][p][j] = b(p, jp * nr + j)
void pack_b(float* dst, MatrixView b, std::int64_t k, std::int64_t n, int nr, std::int64_t panel_begin,
            std::int64_t panel_end) {
  for (std::int64_t jp = panel_begin; jp < panel_end; ++jp) {
    const std::int64_t j0 = jp * nr;
    const int cols = static_cast<int>(std::min<std::int64_t>(nr, n - j0));
    float* out = dst + jp * k * nr;
    const float* src = b.data + j0 * b.col_stride;
    for (std::int64_t p = 0; p < k; ++p) copy_padded(out + p * nr, src + p * b.row_stride, b.col_stride, cols, nr);
  }
}

}  // namespace

extern const GemmPackers gemm_packers = {pack_a, pack_b};

}  // namespace ranvier::cpu::RANVIER_ISA_NS

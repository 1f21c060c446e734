// Packing: copies blocks of A and B into the contiguous, zero-padded panels
// the micro-kernel streams through (BLIS layout). Works from any strides, so
// transposed or sliced inputs cost nothing extra.
#include <algorithm>
#include <cstring>

#include "gemm/gemm_kernels.h"

namespace ranvier::cpu {

// a (m, k) -> panels of mr rows: panel[ip][p][i] = a(ip * mr + i, p)
void pack_a(float* dst, MatrixView a, std::int64_t m, std::int64_t k, int mr) {
  for (std::int64_t i0 = 0; i0 < m; i0 += mr, dst += k * mr) {
    const std::int64_t rows = std::min<std::int64_t>(mr, m - i0);
    const float* src = a.data + i0 * a.row_stride;
    if (a.row_stride == 1) {
      // Columns of A are contiguous (A is a transposed row-major matrix).
      for (std::int64_t p = 0; p < k; ++p) {
        const float* col = src + p * a.col_stride;
        float* out = dst + p * mr;
        for (std::int64_t i = 0; i < rows; ++i) out[i] = col[i];
        for (std::int64_t i = rows; i < mr; ++i) out[i] = 0.0f;
      }
    } else {
      for (std::int64_t i = 0; i < rows; ++i) {
        const float* row = src + i * a.row_stride;
        for (std::int64_t p = 0; p < k; ++p) dst[p * mr + i] = row[p * a.col_stride];
      }
      for (std::int64_t i = rows; i < mr; ++i)
        for (std::int64_t p = 0; p < k; ++p) dst[p * mr + i] = 0.0f;
    }
  }
}

// b (k, n) -> panels of nr columns: panel[jp][p][j] = b(p, jp * nr + j)
void pack_b(float* dst, MatrixView b, std::int64_t k, std::int64_t n, int nr,
            std::int64_t panel_begin, std::int64_t panel_end) {
  for (std::int64_t jp = panel_begin; jp < panel_end; ++jp) {
    const std::int64_t j0 = jp * nr;
    const std::int64_t cols = std::min<std::int64_t>(nr, n - j0);
    float* out = dst + jp * k * nr;
    const float* src = b.data + j0 * b.col_stride;
    if (b.col_stride == 1) {
      for (std::int64_t p = 0; p < k; ++p) {
        std::memcpy(out + p * nr, src + p * b.row_stride, cols * sizeof(float));
        std::memset(out + p * nr + cols, 0, (nr - cols) * sizeof(float));
      }
    } else {
      for (std::int64_t j = 0; j < cols; ++j) {
        const float* col = src + j * b.col_stride;
        for (std::int64_t p = 0; p < k; ++p) out[p * nr + j] = col[p * b.row_stride];
      }
      for (std::int64_t p = 0; p < k; ++p)
        std::memset(out + p * nr + cols, 0, (nr - cols) * sizeof(float));
    }
  }
}

}  // namespace ranvier::cpu

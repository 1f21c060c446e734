// The per-ISA half of the GEMM (BLIS split): one micro-kernel and its block
// sizes (micro_kernel_simd.cpp), and the packing (pack_simd.cpp). The loops
// around the micro-kernel are portable (driver.cpp).
#pragma once

#include <cstdint>

#include "isa_table.h"
#include "ranvier/gemm.h"

namespace ranvier::cpu {

// Block sizes, BLIS naming: the micro-kernel computes an mr x nr tile of C;
// kc is the depth of one packed panel (a kc x nr panel of B stays in L1), an
// mc x kc block of A and a kc x nc block of B share L2.
struct GemmBlocking {
  int mr, nr, kc, mc, nc;
};

// c (m <= mr, n <= nr; row-major, leading dimension ldc) gets
//   act((accumulate ? c : 0) + A_tile @ b_panel + bias)
// A_tile (m x k) is either a packed panel (a_row_stride == 0: column p holds
// A[0..mr, p], written by pack_a) or read in place from a row-major matrix
// whose rows are a_row_stride apart (its columns contiguous), which saves the
// packing copy; b_panel: k x nr, row p holds B[p, 0..nr] (packed by pack_b).
// bias (nr,) already offset to this tile, or null; the epilogue applies only
// when `last` is set (the final k block), otherwise the tile just accumulates.
using MicroKernel = void (*)(std::int64_t k, const float* a, std::int64_t a_row_stride, const float* b_panel, float* c,
                             std::int64_t ldc, int m, int n, bool accumulate, bool last, const Epilogue& epilogue);

// One micro-kernel shape with its block sizes.
struct GemmKernelSet {
  GemmBlocking blocking;
  MicroKernel micro_kernel;
  // The same kernel for tiles at most `narrow_nr` columns wide: a narrow
  // matrix (n = 10 classes, say) or the last panel of a wider one.
  MicroKernel narrow_micro_kernel;
  int narrow_nr;
};

struct GemmKernels {
  // Products wider than `tall.blocking.nr` columns.
  GemmKernelSet wide;
  // Products at most `tall.blocking.nr` columns wide: a shape with more rows
  // and fewer columns wastes less of a narrow tile (on ISAs with one shape,
  // the same as `wide`).
  GemmKernelSet tall;
  // c (m x n, n <= transposed_max_n) = act(ct^T + bias) for ct (n x m, rows
  // ldt apart): the store of a narrow product computed transposed (see gemm
  // in driver.cpp), one vector of lanes per row of c.
  int transposed_max_n;
  void (*store_transposed)(float* c, std::int64_t ldc, const float* ct, std::int64_t ldt, std::int64_t m, int n,
                           const Epilogue& epilogue);
};

// The kernel set for a product n columns wide.
inline const GemmKernelSet& kernel_set(const GemmKernels& kernels, std::int64_t n) {
  return n <= kernels.tall.blocking.nr ? kernels.tall : kernels.wide;
}

RANVIER_DECLARE_ISA_TABLE(GemmKernels, gemm_kernels)

struct GemmPackers {
  // Packs a (m, k) block into ceil(m / mr) panels of mr rows, zero-padded.
  void (*pack_a)(float* dst, MatrixView a, std::int64_t m, std::int64_t k, int mr);
  // Packs b (k, n) block into ceil(n / nr) panels of nr columns, zero-padded.
  // Only panels [panel_begin, panel_end) are written (threads split the work).
  void (*pack_b)(float* dst, MatrixView b, std::int64_t k, std::int64_t n, int nr, std::int64_t panel_begin,
                 std::int64_t panel_end);
};

RANVIER_DECLARE_ISA_TABLE(GemmPackers, gemm_packers)

// The matrix-vector path (gemv_simd.cpp) for products of a few rows, B read in
// place: c[:, begin..end) = act((accumulate ? c : 0) + a @ b + bias) for a
// (m, k) with any strides and b (k, n) with contiguous columns (col_stride 1),
// its k summed in blocks of kc as gemm_impl sums them (the same bits).
struct GemvKernel {
  void (*gemv)(float* c, std::int64_t ldc, MatrixView a, MatrixView b, std::int64_t m, std::int64_t k, std::int64_t kc,
               std::int64_t begin, std::int64_t end, const Epilogue& epilogue, bool accumulate);
  // Columns one pass over B covers for one row: the grain of a thread's share.
  int block_columns;
};

RANVIER_DECLARE_ISA_TABLE(GemvKernel, gemv_kernel)

}  // namespace ranvier::cpu

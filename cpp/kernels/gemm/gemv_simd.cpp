// The matrix-vector product (a GEMM of a few rows: a batch-1 dense layer),
// compiled once per ISA: vectors over the columns of B, which is read row by
// row in place (no packing: each element of B is used once per row of A, so
// the GEMM's copy of B into panels would cost as much as the product).
// Sums run in the GEMM's order (k blocks of kc, each summed from zero and
// added to the previous ones) with its fused store, so either path gives the
// same bits.
#include "activation_apply.h"
#include "gemm/gemm_kernels.h"
#include "simd/blocks.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;
using simd::load_block;
using simd::store_block;

// Vectors of columns per pass for one row of A: 8 independent FMA chains
// cover the FMA latency (4 cycles on 2 ports); more rows share each load of B.
constexpr int kVectors = 8;

// c[r, 0..cols) for the R rows of A, cols <= NV * lanes; b points at column 0
// of this block in row 0 of B (rows b_row_stride apart, columns contiguous).
template <int R, int NV>
void gemv_block(std::int64_t k, std::int64_t kc, const float* a, std::int64_t a_row_stride, std::int64_t a_col_stride,
                const float* b, std::int64_t b_row_stride, float* c, std::int64_t ldc, int cols, bool accumulate,
                const Epilogue& epilogue, const float* bias) {
  int lanes[NV];
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j) {
    const int left = cols - j * V::kLanes;
    lanes[j] = left < 0 ? 0 : (left < V::kLanes ? left : V::kLanes);
  }
  for (std::int64_t pc = 0; pc < k; pc += kc) {
    const std::int64_t kb = k - pc < kc ? k - pc : kc;
    V acc[R][NV];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[r][j] = V::zero();
    for (std::int64_t p = pc; p < pc + kb; ++p) {
      const float* b_row = b + p * b_row_stride;
      V bv[NV];
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) bv[j] = load_block<V>(b_row + j * V::kLanes, lanes[j]);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const V ar = V::set1(a[r * a_row_stride + p * a_col_stride]);
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) acc[r][j] = fmadd(ar, bv[j], acc[r][j]);
      }
    }
    const bool add_c = accumulate || pc > 0;
    const bool fuse = pc + kb == k && (bias != nullptr || epilogue.act != Activation::none);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      float* row = c + r * ldc;
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        if (lanes[j] == 0) break;
        V v = acc[r][j];
        if (add_c) v = v + load_block<V>(row + j * V::kLanes, lanes[j]);
        if (fuse) {
          if (bias != nullptr) v = v + load_block<V>(bias + j * V::kLanes, lanes[j]);
          v = simd::activate(epilogue.act, v);
        }
        store_block(v, row + j * V::kLanes, lanes[j]);
      }
    }
  }
}

// Columns [begin, end) of R rows: full blocks of kVectors / R vectors, then
// the rest one vector at a time.
template <int R>
void gemv_rows(float* c, std::int64_t ldc, MatrixView a, MatrixView b, std::int64_t k, std::int64_t kc,
               std::int64_t begin, std::int64_t end, const Epilogue& epilogue, bool accumulate) {
  constexpr int NV = kVectors / R > 0 ? kVectors / R : 1;
  constexpr std::int64_t kBlock = NV * V::kLanes;
  std::int64_t j = begin;
  const auto block = [&](auto kernel, std::int64_t cols) {
    const float* bias = epilogue.bias != nullptr ? epilogue.bias + j : nullptr;
    kernel(k, kc, a.data, a.row_stride, a.col_stride, b.data + j, b.row_stride, c + j, ldc, static_cast<int>(cols),
           accumulate, epilogue, bias);
    j += cols;
  };
  while (end - j >= kBlock) block(gemv_block<R, NV>, kBlock);
  while (j < end) block(gemv_block<R, 1>, end - j < V::kLanes ? end - j : V::kLanes);
}

// Rows of A in groups of up to 4 (each group reads B once).
void gemv(float* c, std::int64_t ldc, MatrixView a, MatrixView b, std::int64_t m, std::int64_t k, std::int64_t kc,
          std::int64_t begin, std::int64_t end, const Epilogue& epilogue, bool accumulate) {
  for (std::int64_t i = 0; i < m;) {
    const std::int64_t rows = m - i < 4 ? m - i : 4;
    const MatrixView ai = {a.data + i * a.row_stride, a.row_stride, a.col_stride};
    float* ci = c + i * ldc;
    switch (rows) {
      case 1:
        gemv_rows<1>(ci, ldc, ai, b, k, kc, begin, end, epilogue, accumulate);
        break;
      case 2:
        gemv_rows<2>(ci, ldc, ai, b, k, kc, begin, end, epilogue, accumulate);
        break;
      case 3:
        gemv_rows<3>(ci, ldc, ai, b, k, kc, begin, end, epilogue, accumulate);
        break;
      default:
        gemv_rows<4>(ci, ldc, ai, b, k, kc, begin, end, epilogue, accumulate);
        break;
    }
    i += rows;
  }
}

}  // namespace

extern const GemvKernel gemv_kernel = {gemv, kVectors * V::kLanes};

}  // namespace ranvier::cpu::RANVIER_ISA_NS

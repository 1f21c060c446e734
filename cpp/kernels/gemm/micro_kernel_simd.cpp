// The GEMM micro-kernel, compiled once per ISA: an MR x NR tile of C held in
// registers (MR * NR / lanes accumulators), one rank-1 update per k step,
// bias + activation fused into the store. Edge tiles (m < MR or n < NR) use
// the same loop and masked stores.
#include "activation_apply.h"
#include "gemm/gemm_kernels.h"
#include "simd/blocks.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;
using simd::load_block;
using simd::store_block;

// Block sizes per ISA. mr x nr fills the register file (accumulators + nr /
// lanes B vectors + one broadcast A value); kc * nr * 4 bytes of B fits L1.
#if defined(RANVIER_TARGET_AVX512)
// Wide: 6 x 64. Against 12 x 32 it has the same 24 accumulators, but 4 vector
// loads + 6 broadcasts per step instead of 2 + 12, and this host's loads
// (about 1.1 per cycle when they are broadcasts) then keep up with 2 FMAs per
// cycle (figures: results/MEASUREMENTS.md). kc = 128: the 32 KB B
// micro-panel and the 3 KB A micro-panel share a 48 KB L1. nc = 640: a
// work item's kc x nc block of B (320 KB) stays in L2 beside the A block.
constexpr GemmBlocking kWide = {6, 64, 128, 240, 640};  // 24 of 32 zmm accumulate
// Tall: 12 x 32, for products at most 32 columns wide, which would fill half
// of a 6 x 64 tile (a narrow product computed transposed, 10 rows, is one
// tile of it instead of two). kc = 192: the
// 24 KB B micro-panel and the A micro-panel share L1.
constexpr GemmBlocking kTall = {12, 32, 192, 240, 640};
#elif defined(RANVIER_TARGET_AVX2)
constexpr GemmBlocking kWide = {6, 16, 256, 144, 512};  // 12 of 16 ymm accumulate
constexpr const GemmBlocking& kTall = kWide;            // one shape: the same kernels
#else
constexpr GemmBlocking kWide = {6, 8, 256, 144, 512};  // 12 of 16 xmm accumulate
constexpr const GemmBlocking& kTall = kWide;           // one shape: the same kernels
#endif
static_assert(kWide.nr % V::kLanes == 0 && kTall.nr % V::kLanes == 0, "nr must be a whole number of vectors");

// NVT vectors of columns: NR / lanes for full tiles; fewer for narrow ones (n <= NR / 2),
// which then skip the multiply-adds of columns that do not exist.
// PACKED_A: A comes as a packed panel; otherwise as MR row pointers into the
// caller's row-major matrix (rows past m repeat row 0; their sums are dropped).
template <int MR, int NR, int NVT, bool PACKED_A>
void micro_kernel_impl(std::int64_t k, const float* a, std::int64_t a_row_stride, const float* b, float* c,
                       std::int64_t ldc, int m, int n, bool accumulate, bool last, const Epilogue& epilogue) {
  V acc[MR][NVT];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NVT; ++j) acc[i][j] = V::zero();

  const float* rows[MR];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) rows[i] = PACKED_A ? a + i : a + (i < m ? i : 0) * a_row_stride;
  const std::int64_t a_step = PACKED_A ? MR : 1;

  for (std::int64_t p = 0; p < k; ++p, b += NR) {
    V bv[NVT];
#pragma GCC unroll 8
    for (int j = 0; j < NVT; ++j) bv[j] = V::load(b + j * V::kLanes);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      V ai = V::set1(rows[i][p * a_step]);
#pragma GCC unroll 8
      for (int j = 0; j < NVT; ++j) acc[i][j] = fmadd(ai, bv[j], acc[i][j]);
    }
  }

  const bool fuse = last && (epilogue.bias != nullptr || epilogue.act != Activation::none);
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
    if (i >= m) break;
    float* row = c + i * ldc;
#pragma GCC unroll 8
    for (int j = 0; j < NVT; ++j) {
      const int col = j * V::kLanes;
      if (col >= n) break;
      const int cnt = n - col < V::kLanes ? n - col : V::kLanes;
      V r = acc[i][j];
      if (accumulate) r = r + load_block<V>(row + col, cnt);
      if (fuse) {
        if (epilogue.bias != nullptr) r = r + load_block<V>(epilogue.bias + col, cnt);
        r = simd::activate(epilogue.act, r);
      }
      store_block(r, row + col, cnt);
    }
  }
}

template <const GemmBlocking& kBlocking, int NVT>
void micro_kernel(std::int64_t k, const float* a, std::int64_t a_row_stride, const float* b, float* c, std::int64_t ldc,
                  int m, int n, bool accumulate, bool last, const Epilogue& epilogue) {
  constexpr int MR = kBlocking.mr, NR = kBlocking.nr;
  if (a_row_stride == 0) {
    micro_kernel_impl<MR, NR, NVT, true>(k, a, 0, b, c, ldc, m, n, accumulate, last, epilogue);
  } else {
    micro_kernel_impl<MR, NR, NVT, false>(k, a, a_row_stride, b, c, ldc, m, n, accumulate, last, epilogue);
  }
}

// A kernel set: full tiles, and narrow ones of half the vectors (at least one).
template <const GemmBlocking& kBlocking>
constexpr GemmKernelSet kernel_set() {
  constexpr int kVectors = kBlocking.nr / V::kLanes, kNarrow = kVectors / 2 > 0 ? kVectors / 2 : 1;
  return {kBlocking, micro_kernel<kBlocking, kVectors>, micro_kernel<kBlocking, kNarrow>, kNarrow * V::kLanes};
}

// c (m x n, n <= lanes) = act(ct^T + bias), ct (n x m) with rows ldt apart:
// lanes x lanes blocks of ct transposed in registers.
void store_transposed(float* c, std::int64_t ldc, const float* ct, std::int64_t ldt, std::int64_t m, int n,
                      const Epilogue& epilogue) {
  constexpr int L = V::kLanes;
  const V bias = epilogue.bias != nullptr ? load_block<V>(epilogue.bias, n) : V::zero();
  for (std::int64_t i0 = 0; i0 < m; i0 += L) {
    const int rows = static_cast<int>(m - i0 < L ? m - i0 : L);
    V block[L];
    for (int j = 0; j < L; ++j) block[j] = j < n ? load_block<V>(ct + j * ldt + i0, rows) : V::zero();
    simd::RANVIER_ISA_NS::transpose(block);
    for (int r = 0; r < rows; ++r) {
      float* row = c + (i0 + r) * ldc;
      store_block(simd::activate(epilogue.act, block[r] + bias), row, n);
    }
  }
}

}  // namespace

extern const GemmKernels gemm_kernels = {kernel_set<kWide>(), kernel_set<kTall>(), V::kLanes, store_transposed};

}  // namespace ranvier::cpu::RANVIER_ISA_NS

// Packing, compiled once per ISA: copies blocks of A and B into the
// contiguous, zero-padded panels the micro-kernel streams through (BLIS
// layout), a vector at a time. Works from any strides: a transposed operand
// goes through in-register transposes, other strides through gathers.
#include <algorithm>
#include <climits>

#include "gemm/gemm_kernels.h"
#include "simd/blocks.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;
using simd::load_block;
using simd::store_block;

// How the elements of one panel row are read: contiguous, gathered (a stride
// whose lane offsets fit the gather's int32 indices), or one by one.
enum class Access { contiguous, gather, scalar };

Access access_for(std::int64_t stride) {
  if (stride == 1) return Access::contiguous;
  constexpr std::int64_t kMaxStride = INT_MAX / V::kLanes;
  return stride <= kMaxStride && stride >= -kMaxStride ? Access::gather : Access::scalar;
}

// The first n (1..lanes) of the floats src[0], src[stride], ..., zeros after.
template <Access kAccess>
inline V load_lanes(const float* src, std::int64_t stride, int n) {
  if constexpr (kAccess == Access::contiguous) {
    return load_block<V>(src, n);
  } else if constexpr (kAccess == Access::gather) {
    return V::gather_partial(src, stride, n);
  } else {
    float lanes[V::kLanes] = {};
    for (int i = 0; i < n; ++i) lanes[i] = src[i * stride];
    return V::load(lanes);
  }
}

// One vector's share of a panel row: `avail` source elements (0..lanes), and
// `room` floats of the row it fills (the rest belongs to the next row).
struct Block {
  int first, avail, room;
};

// For p in [0, k): dst + p * width gets `width` floats: src + p * step,
// then every `stride` floats after, n of them, then zeros.
template <Access kAccess>
void copy_panel(float* dst, const float* src, std::int64_t step, std::int64_t stride, std::int64_t k, int n,
                int width) {
  Block blocks[16];  // panels are at most 16 vectors wide (mr, nr <= 64)
  int count = 0;
  for (int j = 0; j < width && count < 16; j += V::kLanes)
    blocks[count++] = {j, std::clamp(n - j, 0, V::kLanes), std::min(width - j, V::kLanes)};
  for (std::int64_t p = 0; p < k; ++p, dst += width, src += step) {
    for (int b = 0; b < count; ++b) {
      const Block& blk = blocks[b];
      const V v = blk.avail > 0 ? load_lanes<kAccess>(src + blk.first * stride, stride, blk.avail) : V::zero();
      store_block(v, dst + blk.first, blk.room);
    }
  }
}

// copy_panel when every row is whole vectors of contiguous source (a full
// panel of a row-major operand, the common case): no per-vector decisions.
template <int kVectors>
void copy_full_panel(float* dst, const float* src, std::int64_t step, std::int64_t k) {
  constexpr int kWidth = kVectors * V::kLanes;
  for (std::int64_t p = 0; p < k; ++p, dst += kWidth, src += step) {
#pragma GCC unroll 16
    for (int b = 0; b < kVectors; ++b) V::load(src + b * V::kLanes).store(dst + b * V::kLanes);
  }
}

// copy_panel when the source is transposed (step 1: each panel column is
// contiguous over p, columns `stride` apart): blocks of lanes x lanes are
// loaded column by column (missing columns as zeros, the last p < lanes with
// masked loads) and transposed in registers.
void copy_panel_transposed(float* dst, const float* src, std::int64_t stride, std::int64_t k, int n, int width) {
  constexpr int L = V::kLanes;
  for (std::int64_t p0 = 0; p0 < k; p0 += L) {
    const int depth = static_cast<int>(std::min<std::int64_t>(L, k - p0));
    for (int j = 0; j < width; j += L) {
      const int have = std::clamp(n - j, 0, L), room = std::min(width - j, L);
      V block[L];
      for (int i = 0; i < L; ++i) {
        const float* column = src + (j + i) * stride + p0;
        block[i] = i < have ? load_block<V>(column, depth) : V::zero();
      }
      simd::RANVIER_ISA_NS::transpose(block);
      for (int i = 0; i < depth; ++i) store_block(block[i], dst + (p0 + i) * width + j, room);
    }
  }
}

void copy_panel_any(float* dst, const float* src, std::int64_t step, std::int64_t stride, std::int64_t k, int n,
                    int width) {
  if (step == 1 && access_for(stride) == Access::gather) return copy_panel_transposed(dst, src, stride, k, n, width);
  if (stride == 1 && n == width && width % V::kLanes == 0) {
    switch (width / V::kLanes) {  // the ISAs' mr and nr, in vectors
      case 1:
        return copy_full_panel<1>(dst, src, step, k);
      case 2:
        return copy_full_panel<2>(dst, src, step, k);
      case 4:
        return copy_full_panel<4>(dst, src, step, k);
      default:
        break;
    }
  }
  if (stride == 1 && width <= V::kLanes) {
    // One vector per panel row (AVX-512's 6- and 12-row A panels): its masks
    // stay in registers, no per-row decisions.
    for (std::int64_t p = 0; p < k; ++p, dst += width, src += step) store_block(load_block<V>(src, n), dst, width);
    return;
  }
  switch (access_for(stride)) {
    case Access::contiguous:
      return copy_panel<Access::contiguous>(dst, src, step, stride, k, n, width);
    case Access::gather:
      return copy_panel<Access::gather>(dst, src, step, stride, k, n, width);
    case Access::scalar:
      return copy_panel<Access::scalar>(dst, src, step, stride, k, n, width);
  }
}

// a (m, k) -> panels of mr rows: panel[ip][p][i] = a(ip * mr + i, p)
void pack_a(float* dst, MatrixView a, std::int64_t m, std::int64_t k, int mr) {
  for (std::int64_t i0 = 0; i0 < m; i0 += mr, dst += k * mr) {
    const int rows = static_cast<int>(std::min<std::int64_t>(mr, m - i0));
    copy_panel_any(dst, a.data + i0 * a.row_stride, a.col_stride, a.row_stride, k, rows, mr);
  }
}

// b (k, n) -> panels of nr columns: panel[jp][p][j] = b(p, jp * nr + j)
void pack_b(float* dst, MatrixView b, std::int64_t k, std::int64_t n, int nr, std::int64_t panel_begin,
            std::int64_t panel_end) {
  for (std::int64_t jp = panel_begin; jp < panel_end; ++jp) {
    const std::int64_t j0 = jp * nr;
    const int cols = static_cast<int>(std::min<std::int64_t>(nr, n - j0));
    copy_panel_any(dst + jp * k * nr, b.data + j0 * b.col_stride, b.row_stride, b.col_stride, k, cols, nr);
  }
}

}  // namespace

extern const GemmPackers gemm_packers = {pack_a, pack_b};

}  // namespace ranvier::cpu::RANVIER_ISA_NS

// The loops around the micro-kernel (BLIS: jc -> pc -> ic -> jr -> ir), the
// threading, and the batched matmul entry point.
#include <algorithm>

#include "gemm/gemm_kernels.h"
#include "ranvier/index_math.h"
#include "ranvier/runtime.h"

namespace ranvier::cpu {

namespace {

// Below this many multiply-adds a GEMM runs on one thread: a wake-up of the
// pool (~ a few microseconds) would cost more than it saves.
constexpr std::int64_t kMinParallelMacs = 1 << 18;
// A work item with at least this many B panels packs a row-major A (see gemm_impl).
constexpr std::int64_t kPackAMinPanels = 16;
// The most floats of C one work item updates per k block (192 KB, a sixth of
// a 1.25 MB L2; see gemm_impl).
constexpr std::int64_t kMaxCTileFloats = 48 * 1024;
// A product of a transposed A whose C has at most this many floats and whose k
// is at least kSplitKMinDepth per thread is split along k (see gemm_split_k): a
// weight gradient, x^T @ dy over a batch (figures: results/MEASUREMENTS.md).
constexpr std::int64_t kSplitKMaxCFloats = 64 * 1024;
constexpr std::int64_t kSplitKMinDepth = 256;
// Products of at most this many rows with B's columns contiguous take the
// matrix-vector path (B read in place, not packed): measured faster than the
// GEMM up to here (figures: results/MEASUREMENTS.md).
constexpr std::int64_t kGemvMaxRows = 4;

// Floats of b (k, n) packed into panels nr wide.
std::int64_t packed_floats(std::int64_t k, std::int64_t n, int nr) {
  return std::max<std::int64_t>(k, 0) * ceil_div(std::max<std::int64_t>(n, 0), nr) * nr;
}

// k == 0: the product is zero, only the epilogue remains.
void gemm_empty_k(float* c, std::int64_t ldc, std::int64_t m, std::int64_t n, const Epilogue& epilogue,
                  bool accumulate) {
  for (std::int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    for (std::int64_t j = 0; j < n; ++j) {
      float v = accumulate ? row[j] : 0.0f;
      row[j] = epilogue.bias != nullptr ? v + epilogue.bias[j] : v;
    }
    if (epilogue.act != Activation::none) activation_forward(epilogue.act, row, row, n);
  }
}

// Where panel jp (of nr columns) of the k block starting at pc (depth kb)
// lies in a B packed whole: k blocks one after another, panels within each.
std::int64_t packed_panel_offset(std::int64_t pc, std::int64_t kb, std::int64_t jp, std::int64_t panels, int nr) {
  return pc * panels * nr + jp * kb * nr;
}

// b (k, n) packed whole with the block sizes bs: k blocks one after another,
// panels within each (see packed_panel_offset), all threads together.
void pack_b_blocked(float* dst, MatrixView b, std::int64_t k, std::int64_t n, const GemmBlocking& bs) {
  const GemmPackers& packers = RANVIER_ISA_TABLE(gemm_packers);
  const std::int64_t panels = ceil_div(n, bs.nr);
  parallel_for(panels, std::max<std::int64_t>(1, (1 << 16) / std::max<std::int64_t>(1, k * bs.nr)),
               [&](std::int64_t begin, std::int64_t end) {
                 for (std::int64_t pc = 0; pc < k; pc += bs.kc) {
                   const std::int64_t kb = std::min<std::int64_t>(bs.kc, k - pc);
                   packers.pack_b(dst + packed_panel_offset(pc, kb, 0, panels, bs.nr),
                                  {b.data + pc * b.row_stride, b.row_stride, b.col_stride}, kb, n, bs.nr, begin, end);
                 }
               });
}

// The most rows of a row block of A for a column block nb wide: its tile of C
// stays in L2 between k blocks (see gemm_impl).
std::int64_t row_block_rows(std::int64_t nb, const GemmBlocking& bs) {
  return std::clamp<std::int64_t>(kMaxCTileFloats / nb / bs.mr * bs.mr, bs.mr, bs.mc);
}

// The matrix-vector path: threads split the columns when the product is large.
void gemv(float* c, std::int64_t ldc, MatrixView a, MatrixView b, std::int64_t m, std::int64_t n, std::int64_t k,
          const Epilogue& epilogue, bool accumulate) {
  const GemvKernel& kernel = RANVIER_ISA_TABLE(gemv_kernel);
  const std::int64_t kc = kernel_set(RANVIER_ISA_TABLE(gemm_kernels), n).blocking.kc;
  const std::int64_t width = kernel.block_columns, blocks = ceil_div(n, width);
  const auto columns = [&](std::int64_t begin, std::int64_t end) {
    kernel.gemv(c, ldc, a, b, m, k, kc, begin * width, std::min(end * width, n), epilogue, accumulate);
  };
  if (m * n * k >= kMinParallelMacs && num_threads() > 1) {
    parallel_for(blocks, std::max<std::int64_t>(1, kMinParallelMacs / 4 / (m * k * width)), columns);
  } else {
    columns(0, blocks);
  }
}

}  // namespace

// c = act(accumulate ? c : 0) + a @ b + bias), B read from `b` and packed per
// work item, or taken from `packed_b` (all of B, packed by pack_b_for_gemm).
void gemm_impl(float* c, std::int64_t ldc, MatrixView a, MatrixView b, const float* packed_b, std::int64_t m,
               std::int64_t n, std::int64_t k, const Epilogue& epilogue, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    gemm_empty_k(c, ldc, m, n, epilogue, accumulate);
    return;
  }
  const GemmKernelSet& kernels = kernel_set(RANVIER_ISA_TABLE(gemm_kernels), n);
  const GemmPackers& packers = RANVIER_ISA_TABLE(gemm_packers);
  const GemmBlocking bs = kernels.blocking;
  const bool threaded = m * n * k >= kMinParallelMacs && num_threads() > 1;

  // A row-major A (contiguous rows) is read in place, unless a work item
  // multiplies it by enough B panels to repay packing: a packed panel is one
  // stream for the micro-kernel instead of mr rows lda apart; the layer
  // shapes, with few panels, lose by packing. The 6-row tiles of AVX-512's
  // wide kernel read 6 rows, where packing measured no faster, so a work
  // item's 10 panels there never pack (figures: results/MEASUREMENTS.md). Other layouts are always packed (so is a row
  // stride of 0, which the micro-kernel reads as "packed").
  const bool pack_a_needed = a.col_stride != 1 || a.row_stride == 0;

  for (std::int64_t jc = 0; jc < n; jc += bs.nc) {
    const std::int64_t nb = std::min<std::int64_t>(bs.nc, n - jc);
    const std::int64_t b_panels = ceil_div(nb, bs.nr);
    // Work items: (row block of A) x (a share of the B panels). Each owns its
    // tile of C through every k block, so the whole product is one parallel
    // region with no barrier. One item per thread where the rows allow: more
    // items re-read A and B (measured slower on the layer shapes), but their count a multiple of the threads (5 items
    // on 2 threads leave one idle a sixth of the time). A row block's tile of C is read and written once per k block:
    // its rows are at most mc, and fewer when the column block is wide, so that the tile stays in L2 between k blocks
    // (a C row stride of 8 or 16 KB maps 240 rows onto few L2 sets).
    std::int64_t m_blocks = ceil_div(m, row_block_rows(nb, bs)), splits = 1;
    if (threaded) {
      const std::int64_t threads = num_threads();
      // Too few row blocks: share the B panels out, then split the rows finer.
      if (m_blocks < threads) splits = std::min(b_panels, ceil_div(threads, m_blocks));
      while ((m_blocks * splits) % threads != 0 && m_blocks < ceil_div(m, bs.mr)) ++m_blocks;
    }
    // Rows per block: as even as whole micro-tiles allow, so no item is a sliver.
    const std::int64_t mc = ceil_div(ceil_div(m, m_blocks), bs.mr) * bs.mr;
    const std::int64_t tasks = m_blocks * splits;
    // Many row blocks would each pack the same B panels: pack this column
    // block of B once, all threads together, and let every item read it.
    // With two row blocks the extra wake-up of
    // the pool costs about what the second packing does.
    const float* block_packed = packed_b;
    std::int64_t block_first_panel = jc / bs.nr, block_panels = ceil_div(n, bs.nr);
    if (packed_b == nullptr && m_blocks > 2) {
      float* dst = scratch(ScratchSlot::gemm_packed_b, static_cast<std::size_t>(packed_floats(k, nb, bs.nr)));
      pack_b_blocked(dst, {b.data + jc * b.col_stride, b.row_stride, b.col_stride}, k, nb, bs);
      block_packed = dst;
      block_first_panel = 0;
      block_panels = b_panels;
    }
    // Items are claimed by whichever thread is free: on a shared host one core
    // may run slower for a while, and a static split would wait for it.
    const auto item = [&](std::int64_t t) {
      const std::int64_t ic = (t / splits) * mc, share = t % splits;
      if (ic >= m) return;
      const std::int64_t mb = std::min<std::int64_t>(mc, m - ic);
      const std::int64_t jr_begin = b_panels * share / splits, jr_end = b_panels * (share + 1) / splits;
      const bool pack_a = pack_a_needed || jr_end - jr_begin >= kPackAMinPanels;
      for (std::int64_t pc = 0; pc < k; pc += bs.kc) {
        const std::int64_t kb = std::min<std::int64_t>(bs.kc, k - pc);
        const bool last = pc + kb == k;
        const bool acc = accumulate || pc > 0;
        const float* a_block = a.data + ic * a.row_stride + pc * a.col_stride;
        float* a_packed = nullptr;
        if (pack_a) {
          a_packed = scratch(ScratchSlot::gemm_packed_a, static_cast<std::size_t>(ceil_div(mb, bs.mr) * bs.mr * kb));
          packers.pack_a(a_packed, {a_block, a.row_stride, a.col_stride}, mb, kb, bs.mr);
        }
        // This item's B panels only: packing B once per row block of A costs
        // 1/mc of the multiply-adds.
        const float* b_packed;
        if (block_packed != nullptr) {
          b_packed = block_packed + packed_panel_offset(pc, kb, block_first_panel + jr_begin, block_panels, bs.nr);
        } else {
          float* dst = scratch(ScratchSlot::gemm_packed_b, static_cast<std::size_t>((jr_end - jr_begin) * bs.nr * kb));
          const float* b_block = b.data + pc * b.row_stride + (jc + jr_begin * bs.nr) * b.col_stride;
          packers.pack_b(dst, {b_block, b.row_stride, b.col_stride}, kb, nb - jr_begin * bs.nr, bs.nr, 0,
                         jr_end - jr_begin);
          b_packed = dst;
        }
        for (std::int64_t jr = jr_begin; jr < jr_end; ++jr) {
          const std::int64_t j = jc + jr * bs.nr;
          const int cols = static_cast<int>(std::min<std::int64_t>(bs.nr, n - j));
          Epilogue tile_epilogue = epilogue;
          if (epilogue.bias != nullptr) tile_epilogue.bias = epilogue.bias + j;
          const MicroKernel kernel = cols <= kernels.narrow_nr ? kernels.narrow_micro_kernel : kernels.micro_kernel;
          const float* b_panel = b_packed + (jr - jr_begin) * bs.nr * kb;
          for (std::int64_t ir = 0; ir * bs.mr < mb; ++ir) {
            const int rows = static_cast<int>(std::min<std::int64_t>(bs.mr, mb - ir * bs.mr));
            const float* a_tile = pack_a ? a_packed + ir * bs.mr * kb : a_block + ir * bs.mr * a.row_stride;
            kernel(kb, a_tile, pack_a ? 0 : a.row_stride, b_panel, c + (ic + ir * bs.mr) * ldc + j, ldc, rows, cols,
                   acc, last, tile_epilogue);
          }
        }
      }
    };
    if (threaded) {
      parallel_tasks(tasks, 1, item);
    } else {
      for (std::int64_t t = 0; t < tasks; ++t) item(t);
    }
  }
}

namespace {

// Only where the row split would leave threads without rows of their own, and
// only for a transposed A (x^T of a weight gradient): a row-major A is a layer's
// input, whose rows must come out with the same bits at any batch size (the
// matrix-vector path of a few rows sums in the unsplit GEMM's order).
bool split_k_pays(MatrixView a, std::int64_t m, std::int64_t n, std::int64_t k, const Epilogue& epilogue) {
  const std::int64_t threads = num_threads();
  if (threads < 2 || a.row_stride != 1 || a.col_stride == 1 || m * n > kSplitKMaxCFloats ||
      k < threads * kSplitKMinDepth || m * n * k < kMinParallelMacs || epilogue.bias != nullptr ||
      epilogue.act != Activation::none)
    return false;
  const GemmBlocking bs = kernel_set(RANVIER_ISA_TABLE(gemm_kernels), n).blocking;
  return ceil_div(m, row_block_rows(std::min<std::int64_t>(bs.nc, n), bs)) < threads;
}

// c (+)= a @ b with k split into one share per thread: a C this small gives
// the row split one block, so the threads would share out B's panels and
// each pack the same A; here each packs only its share of A and B into its
// own C (thread 0 into c itself), and the shares are added at the end.
void gemm_split_k(float* c, std::int64_t ldc, MatrixView a, MatrixView b, std::int64_t m, std::int64_t n,
                  std::int64_t k, bool accumulate) {
  const std::int64_t parts = num_threads(), mn = m * n;
  float* partial = scratch(ScratchSlot::gemm_split_k, static_cast<std::size_t>((parts - 1) * mn));
  parallel_tasks(parts, 1, [&](std::int64_t p) {
    const std::int64_t k0 = k * p / parts, k1 = k * (p + 1) / parts;
    const MatrixView ap = {a.data + k0 * a.col_stride, a.row_stride, a.col_stride};
    const MatrixView bp = {b.data + k0 * b.row_stride, b.row_stride, b.col_stride};
    if (p == 0) {
      gemm_impl(c, ldc, ap, bp, nullptr, m, n, k1 - k0, {}, accumulate);
    } else {
      gemm_impl(partial + (p - 1) * mn, n, ap, bp, nullptr, m, n, k1 - k0, {}, false);
    }
  });
  parallel_for(m, std::max<std::int64_t>(1, (1 << 14) / std::max<std::int64_t>(1, n)),
               [&](std::int64_t begin, std::int64_t end) {
                 for (std::int64_t p = 1; p < parts; ++p) {
                   const float* share = partial + (p - 1) * mn;
                   for (std::int64_t i = begin; i < end; ++i)
                     for (std::int64_t j = 0; j < n; ++j) c[i * ldc + j] += share[i * n + j];
                 }
               });
}

}  // namespace

// A product at most one micro-tile's rows wide (a 10-class layer, say) and
// taller than one runs as c^T = b^T a^T: its long side then fills the
// micro-kernel's vectors (12 x 32 tiles with 10 rows used) instead of a
// narrow tile that loads one value of A per multiply-add, which is bound by
// loads, not FMAs. The transposed result
// goes through scratch, which starts as c^T when the product accumulates, so
// that every element sums in the order of the direct path (same bits either
// way); its store adds bias and activation.
void gemm(float* c, std::int64_t ldc, MatrixView a, MatrixView b, std::int64_t m, std::int64_t n, std::int64_t k,
          const Epilogue& epilogue, bool accumulate) {
  if (m > 0 && m <= kGemvMaxRows && n > 0 && k > 0 && b.col_stride == 1) {
    gemv(c, ldc, a, b, m, n, k, epilogue, accumulate);
    return;
  }
  const GemmKernels& kernels = RANVIER_ISA_TABLE(gemm_kernels);
  const int mr = kernel_set(kernels, n).blocking.mr;
  if (n <= 0 || n > std::min(mr, kernels.transposed_max_n) || m <= mr || k <= 0) {
    if (m > 0 && n > 0 && split_k_pays(a, m, n, k, epilogue)) {
      gemm_split_k(c, ldc, a, b, m, n, k, accumulate);
      return;
    }
    gemm_impl(c, ldc, a, b, nullptr, m, n, k, epilogue, accumulate);
    return;
  }
  float* ct = scratch(ScratchSlot::gemm_narrow, static_cast<std::size_t>(n * m));
  const std::int64_t lanes = kernels.transposed_max_n, blocks = ceil_div(m, lanes);
  const std::int64_t grain = std::max<std::int64_t>(1, (1 << 14) / (lanes * n));
  if (accumulate) {
    parallel_for(blocks, grain, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin * lanes; i < std::min(end * lanes, m); ++i)
        for (std::int64_t j = 0; j < n; ++j) ct[j * m + i] = c[i * ldc + j];
    });
  }
  gemm_impl(ct, m, b.transposed(), a.transposed(), nullptr, n, m, k, {}, accumulate);
  parallel_for(blocks, grain, [&](std::int64_t begin, std::int64_t end) {
    const std::int64_t i0 = begin * lanes, rows = std::min(end * lanes, m) - i0;
    kernels.store_transposed(c + i0 * ldc, ldc, ct + i0, m, rows, static_cast<int>(n), epilogue);
  });
}

// B is packed with the block sizes of the kernel set that gemm_impl picks for
// the same n.
std::int64_t packed_b_floats(std::int64_t k, std::int64_t n) {
  return packed_floats(k, n, kernel_set(RANVIER_ISA_TABLE(gemm_kernels), n).blocking.nr);
}

void pack_b_for_gemm(float* dst, MatrixView b, std::int64_t k, std::int64_t n) {
  pack_b_blocked(dst, b, k, n, kernel_set(RANVIER_ISA_TABLE(gemm_kernels), n).blocking);
}

void gemm_packed_b(float* c, std::int64_t ldc, MatrixView a, const float* packed_b, std::int64_t m, std::int64_t n,
                   std::int64_t k, const Epilogue& epilogue, bool accumulate) {
  gemm_impl(c, ldc, a, {nullptr, 0, 0}, packed_b, m, n, k, epilogue, accumulate);
}

void matmul(float* c, MatrixView a, std::int64_t a_batch_stride, MatrixView b, std::int64_t b_batch_stride,
            std::int64_t batch, std::int64_t m, std::int64_t n, std::int64_t k) {
  // One right operand for the whole batch (x @ w over leading axes): pack it once.
  const float* packed_b = nullptr;
  if (batch > 1 && b_batch_stride == 0 && k > 0) {
    float* dst = scratch(ScratchSlot::gemm_packed_b, static_cast<std::size_t>(packed_b_floats(k, n)));
    pack_b_for_gemm(dst, b, k, n);
    packed_b = dst;
  }
  auto one = [&](std::int64_t t) {
    MatrixView at = {a.data + t * a_batch_stride, a.row_stride, a.col_stride};
    MatrixView bt = {b.data + t * b_batch_stride, b.row_stride, b.col_stride};
    if (packed_b != nullptr) {
      gemm_impl(c + t * m * n, n, at, bt, packed_b, m, n, k, {}, false);
    } else {
      gemm(c + t * m * n, n, at, bt, m, n, k);
    }
  };
  if (batch > 1 && m * n * k < kMinParallelMacs) {
    // Many small products: threads over the batch, each product serial.
    const std::int64_t grain = std::max<std::int64_t>(1, kMinParallelMacs / std::max<std::int64_t>(1, m * n * k));
    parallel_for(batch, grain, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t t = begin; t < end; ++t) one(t);
    });
  } else {
    for (std::int64_t t = 0; t < batch; ++t) one(t);
  }
}

}  // namespace ranvier::cpu

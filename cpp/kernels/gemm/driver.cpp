// The loops around the micro-kernel (BLIS: jc -> pc -> ic -> jr -> ir), the
// threading, and the batched matmul entry point.
#include <algorithm>

#include "gemm/gemm_kernels.h"
#include "ranvier/runtime.h"

namespace ranvier::cpu {

namespace {

// Below this many multiply-adds a GEMM runs on one thread: a wake-up of the
// pool (~ a few microseconds) would cost more than it saves.
constexpr std::int64_t kMinParallelMacs = 1 << 18;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// k == 0: the product is zero, only the epilogue remains.
void gemm_empty_k(float* c, std::int64_t ldc, std::int64_t m, std::int64_t n,
                  const Epilogue& epilogue, bool accumulate) {
  for (std::int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    for (std::int64_t j = 0; j < n; ++j) {
      float v = accumulate ? row[j] : 0.0f;
      row[j] = epilogue.bias != nullptr ? v + epilogue.bias[j] : v;
    }
    if (epilogue.act != Activation::none) activation_forward(epilogue.act, row, row, n);
  }
}

}  // namespace

void gemm(float* c, std::int64_t ldc, MatrixView a, MatrixView b, std::int64_t m, std::int64_t n,
          std::int64_t k, const Epilogue& epilogue, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    gemm_empty_k(c, ldc, m, n, epilogue, accumulate);
    return;
  }
  const GemmKernels& kernels = RANVIER_ISA_TABLE(gemm_kernels);
  const GemmBlocking bs = kernels.blocking;
  const bool threaded = m * n * k >= kMinParallelMacs && num_threads() > 1;

  for (std::int64_t jc = 0; jc < n; jc += bs.nc) {
    const std::int64_t nb = std::min<std::int64_t>(bs.nc, n - jc);
    const std::int64_t b_panels = ceil_div(nb, bs.nr);
    for (std::int64_t pc = 0; pc < k; pc += bs.kc) {
      const std::int64_t kb = std::min<std::int64_t>(bs.kc, k - pc);
      const bool last = pc + kb == k;
      const bool acc = accumulate || pc > 0;

      float* b_packed = scratch(1, static_cast<std::size_t>(b_panels * bs.nr * kb));
      const MatrixView b_block = {b.data + pc * b.row_stride + jc * b.col_stride, b.row_stride,
                                  b.col_stride};
      parallel_for(b_panels, threaded ? 1 : b_panels, [&](std::int64_t begin, std::int64_t end) {
        pack_b(b_packed, b_block, kb, nb, bs.nr, begin, end);
      });

      // Work items: (row block of A) x (a share of the B panels), enough of
      // them that every thread gets one even when M fits in one block.
      const std::int64_t m_blocks = ceil_div(m, bs.mc);
      const std::int64_t splits =
          threaded ? std::min<std::int64_t>(b_panels, std::max<std::int64_t>(1, ceil_div(num_threads(), m_blocks)))
                   : 1;
      const std::int64_t tasks = m_blocks * splits;
      parallel_for(tasks, threaded ? 1 : tasks, [&](std::int64_t t_begin, std::int64_t t_end) {
        std::int64_t packed_ic = -1;
        float* a_packed = nullptr;
        for (std::int64_t t = t_begin; t < t_end; ++t) {
          const std::int64_t ic = (t / splits) * bs.mc, share = t % splits;
          const std::int64_t mb = std::min<std::int64_t>(bs.mc, m - ic);
          if (ic != packed_ic) {
            a_packed = scratch(0, static_cast<std::size_t>(ceil_div(mb, bs.mr) * bs.mr * kb));
            const MatrixView a_block = {a.data + ic * a.row_stride + pc * a.col_stride,
                                        a.row_stride, a.col_stride};
            pack_a(a_packed, a_block, mb, kb, bs.mr);
            packed_ic = ic;
          }
          const std::int64_t jr_begin = b_panels * share / splits;
          const std::int64_t jr_end = b_panels * (share + 1) / splits;
          for (std::int64_t jr = jr_begin; jr < jr_end; ++jr) {
            const std::int64_t j = jc + jr * bs.nr;
            const int cols = static_cast<int>(std::min<std::int64_t>(bs.nr, n - j));
            Epilogue tile_epilogue = epilogue;
            if (epilogue.bias != nullptr) tile_epilogue.bias = epilogue.bias + j;
            const MicroKernel kernel = cols <= kernels.narrow_nr ? kernels.narrow_micro_kernel : kernels.micro_kernel;
            for (std::int64_t ir = 0; ir * bs.mr < mb; ++ir) {
              const int rows = static_cast<int>(std::min<std::int64_t>(bs.mr, mb - ir * bs.mr));
              kernel(kb, a_packed + ir * bs.mr * kb, b_packed + jr * bs.nr * kb,
                                   c + (ic + ir * bs.mr) * ldc + j, ldc, rows, cols, acc, last,
                                   tile_epilogue);
            }
          }
        }
      });
    }
  }
}

void matmul(float* c, MatrixView a, std::int64_t a_batch_stride, MatrixView b,
            std::int64_t b_batch_stride, std::int64_t batch, std::int64_t m, std::int64_t n,
            std::int64_t k) {
  auto one = [&](std::int64_t t) {
    MatrixView at = {a.data + t * a_batch_stride, a.row_stride, a.col_stride};
    MatrixView bt = {b.data + t * b_batch_stride, b.row_stride, b.col_stride};
    gemm(c + t * m * n, n, at, bt, m, n, k);
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

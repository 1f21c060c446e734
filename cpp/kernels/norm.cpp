// Layer norm: threads over rows; the backward's column sums (dgamma, dbeta)
// go through per-block partial sums, reduced in block order.
#include <algorithm>
#include <cstring>

#include "norm_kernels.h"
#include "ranvier/norm.h"
#include "ranvier/runtime.h"

namespace ranvier::cpu {

namespace {
// Elements per thread below which waking another thread costs more than it saves.
constexpr std::int64_t kGrain = 1 << 14;
// Row blocks of the backward. A fixed count (not the thread count) keeps
// dgamma and dbeta identical for any number of threads.
constexpr std::int64_t kMaxBlocks = 64;
constexpr ScratchSlot kScratchSlot = ScratchSlot::norm_embedding_dropout_optim;

std::int64_t rows_grain(std::int64_t d) { return std::max<std::int64_t>(1, kGrain / d); }
}  // namespace

void layer_norm(float* y, float* mean, float* rstd, const float* x, const float* gamma, const float* beta,
                std::int64_t rows, std::int64_t d, float eps) {
  const NormKernels& k = RANVIER_ISA_TABLE(norm_kernels);
  parallel_for(rows, rows_grain(d), [&](std::int64_t begin, std::int64_t end) {
    float m, r;
    for (std::int64_t row = begin; row < end; ++row) {
      k.forward_row(y + row * d, &m, &r, x + row * d, gamma, beta, d, eps);
      if (mean != nullptr) mean[row] = m;
      if (rstd != nullptr) rstd[row] = r;
    }
  });
}

void layer_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* gamma,
                         const float* mean, const float* rstd, std::int64_t rows, std::int64_t d) {
  if (rows == 0) {
    std::memset(dgamma, 0, d * sizeof(float));
    std::memset(dbeta, 0, d * sizeof(float));
    return;
  }
  const NormKernels& k = RANVIER_ISA_TABLE(norm_kernels);
  const std::int64_t blocks = std::clamp<std::int64_t>(rows * d / kGrain, 1, std::min<std::int64_t>(rows, kMaxBlocks));
  // partial[b] = (dgamma (d), dbeta (d)) of block b's rows
  float* partial = scratch(kScratchSlot, static_cast<std::size_t>(blocks * 2 * d));
  parallel_for(blocks, 1, [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t b = b0; b < b1; ++b) {
      float* pg = partial + b * 2 * d;
      float* pb = pg + d;
      std::memset(pg, 0, 2 * d * sizeof(float));
      for (std::int64_t row = rows * b / blocks; row < rows * (b + 1) / blocks; ++row)
        k.backward_row(dx + row * d, pg, pb, dy + row * d, x + row * d, gamma, mean[row], rstd[row], d);
    }
  });
  parallel_for(d, std::max<std::int64_t>(64, kGrain / blocks), [&](std::int64_t j0, std::int64_t j1) {
    std::memcpy(dgamma + j0, partial + j0, (j1 - j0) * sizeof(float));
    std::memcpy(dbeta + j0, partial + d + j0, (j1 - j0) * sizeof(float));
    for (std::int64_t b = 1; b < blocks; ++b) {
      const float* pg = partial + b * 2 * d;
      for (std::int64_t j = j0; j < j1; ++j) {
        dgamma[j] += pg[j];
        dbeta[j] += pg[d + j];
      }
    }
  });
}

}  // namespace ranvier::cpu

// Attention in tiles (flash-attention 2 on a CPU). Every product is a call of
// the GEMM on strided views of q, k, v; between the GEMMs, per-ISA row loops
// (attention_simd.cpp) do the exp and rescale work of the online softmax.
//
// Forward, per (b, h) and block of kBlockQ queries: for each block of kBlockK
// keys, S = Q K^T; masked logits become -inf; the running row max m and sum l
// are updated, the output rows rescaled by exp(m_old - m_new), and
// O += exp(scale S - m) V. At the end O /= l and lse = m + log l.
//
// Backward, per (b, h): delta = rowsum(dO * O); for each key block and each
// query block that can see it, P = exp(scale S - lse) is recomputed, then
// dV += P^T dO, dP = dO V^T, dS = scale P (dP - delta), dQ += dS K, dK += dS^T Q.
//
// Memory per thread, from scratch slot 4: one kBlockQ x kBlockK tile and the
// block's row max and sum in the forward; two tiles and delta (Lq floats) in
// the backward. Never (Lq, Lk).
#include "ranvier/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "attention_kernels.h"
#include "ranvier/gemm.h"
#include "ranvier/runtime.h"

namespace ranvier::cpu {

namespace {

// A 64 x 64 float tile is 16 KiB: it and the GEMM's packed panels stay in L1/L2.
constexpr std::int64_t kBlockQ = 64;
constexpr std::int64_t kBlockK = 64;  // also the leading dimension of every tile
constexpr std::int64_t kTile = kBlockQ * kBlockK;
// Below this many multiply-adds per thread, waking another costs more than it saves.
constexpr std::int64_t kMinParallelMacs = 1 << 18;
constexpr float kInf = std::numeric_limits<float>::infinity();

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Rows [row0, ...) of head (b, h) of t as a (rows, cols) matrix.
MatrixView rows_of(const AttentionView& t, std::int64_t b, std::int64_t h, std::int64_t row0) {
  return {t.data + b * t.batch_stride + h * t.head_stride + row0 * t.row_stride, t.row_stride,
          t.col_stride};
}

// Keys a query may see under the causal rule: j < causal_end(i).
std::int64_t causal_end(const AttentionShape& s, std::int64_t i) {
  return std::clamp<std::int64_t>(i + 1 + s.lk - s.lq, 0, s.lk);
}

// Sets to -inf each logit of tile s (rows x cols, leading dimension kBlockK)
// whose query i0 + r may not attend key j0 + c.
void mask_tile(float* s, std::int64_t rows, std::int64_t cols, std::int64_t b, std::int64_t h,
               std::int64_t i0, std::int64_t j0, const AttentionMask& mask,
               const AttentionShape& shape) {
  if (mask.data != nullptr) {
    const std::uint8_t* m = mask.data + b * mask.batch_stride + h * mask.head_stride +
                            i0 * mask.query_stride + j0 * mask.key_stride;
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::uint8_t* mr = m + r * mask.query_stride;
      float* sr = s + r * kBlockK;
      for (std::int64_t c = 0; c < cols; ++c)
        if (mr[c * mask.key_stride] == 0) sr[c] = -kInf;
    }
  }
  if (shape.causal) {
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::int64_t first_hidden = std::max<std::int64_t>(0, causal_end(shape, i0 + r) - j0);
      std::fill(s + r * kBlockK + std::min(first_hidden, cols), s + r * kBlockK + cols, -kInf);
    }
  }
}

// One block of queries [i0, i0 + bq) of head (b, h): out rows and lse.
void forward_block(float* out, float* lse, const AttentionView& q, const AttentionView& k,
                   const AttentionView& v, const AttentionMask& mask, const AttentionShape& shape,
                   const AttentionKernels& kern, std::int64_t b, std::int64_t h, std::int64_t i0,
                   float* buf) {
  const std::int64_t bq = std::min(kBlockQ, shape.lq - i0);
  const std::int64_t row = (b * shape.heads + h) * shape.lq + i0;
  float* o = out + row * shape.dv;
  float* s = buf;
  float* row_max = buf + kTile;
  float* row_sum = row_max + kBlockQ;
  std::memset(o, 0, static_cast<std::size_t>(bq * shape.dv) * sizeof(float));
  std::fill(row_max, row_max + bq, -kInf);
  std::fill(row_sum, row_sum + bq, 0.0f);

  const MatrixView q_block = rows_of(q, b, h, i0);
  const std::int64_t key_end = shape.causal ? causal_end(shape, i0 + bq - 1) : shape.lk;
  for (std::int64_t j0 = 0; j0 < key_end; j0 += kBlockK) {
    const std::int64_t bk = std::min(kBlockK, key_end - j0);
    gemm(s, kBlockK, q_block, rows_of(k, b, h, j0).transposed(), bq, bk, shape.d);
    mask_tile(s, bq, bk, b, h, i0, j0, mask, shape);
    for (std::int64_t r = 0; r < bq; ++r) {
      float* sr = s + r * kBlockK;
      const float m_new = std::max(row_max[r], shape.scale * kern.row_max(sr, bk));
      // A row with nothing allowed yet keeps m = -inf; shifting by 0 then
      // turns its -inf logits into exact zeros instead of NaN.
      const float shift = m_new == -kInf ? 0.0f : m_new;
      const float alpha = std::exp(row_max[r] - shift);
      if (alpha != 1.0f && row_sum[r] > 0.0f) kern.scale_row(o + r * shape.dv, shape.dv, alpha);
      row_sum[r] = row_sum[r] * alpha + kern.exp_row(sr, sr, bk, shape.scale, shift);
      row_max[r] = m_new;
    }
    gemm(o, shape.dv, {s, kBlockK, 1}, rows_of(v, b, h, j0), bq, shape.dv, bk, {}, true);
  }
  for (std::int64_t r = 0; r < bq; ++r) {
    if (row_sum[r] > 0.0f) {
      kern.scale_row(o + r * shape.dv, shape.dv, 1.0f / row_sum[r]);
      lse[row + r] = row_max[r] + std::log(row_sum[r]);
    } else {
      lse[row + r] = -kInf;  // no allowed key: the output row stays 0
    }
  }
}

// All gradients of head (b, h).
void backward_head(float* dq, float* dk, float* dv, const AttentionView& dout,
                   const AttentionView& out, const float* lse, const AttentionView& q,
                   const AttentionView& k, const AttentionView& v, const AttentionMask& mask,
                   const AttentionShape& shape, const AttentionKernels& kern, std::int64_t b,
                   std::int64_t h) {
  const std::int64_t head = b * shape.heads + h;
  const std::int64_t d = shape.d, dvw = shape.dv;
  float* dq_h = dq + head * shape.lq * d;
  float* dk_h = dk + head * shape.lk * d;
  float* dv_h = dv + head * shape.lk * dvw;
  const float* lse_h = lse + head * shape.lq;
  std::memset(dq_h, 0, static_cast<std::size_t>(shape.lq * d) * sizeof(float));
  std::memset(dk_h, 0, static_cast<std::size_t>(shape.lk * d) * sizeof(float));
  std::memset(dv_h, 0, static_cast<std::size_t>(shape.lk * dvw) * sizeof(float));

  float* buf = scratch(4, static_cast<std::size_t>(2 * kTile + shape.lq));
  float* p = buf;
  float* ds = buf + kTile;
  float* delta = ds + kTile;
  const MatrixView dout_h = rows_of(dout, b, h, 0), out_h = rows_of(out, b, h, 0);
  for (std::int64_t i = 0; i < shape.lq; ++i) {
    float acc = 0.0f;
    for (std::int64_t c = 0; c < dvw; ++c)
      acc += dout_h.data[i * dout_h.row_stride + c * dout_h.col_stride] *
             out_h.data[i * out_h.row_stride + c * out_h.col_stride];
    delta[i] = acc;
  }

  for (std::int64_t j0 = 0; j0 < shape.lk; j0 += kBlockK) {
    const std::int64_t bk = std::min(kBlockK, shape.lk - j0);
    const MatrixView k_block = rows_of(k, b, h, j0), v_block = rows_of(v, b, h, j0);
    // Under the causal rule, query blocks wholly before the first query that
    // sees key j0 contribute nothing.
    const std::int64_t first_query =
        shape.causal ? std::max<std::int64_t>(0, j0 - (shape.lk - shape.lq)) : 0;
    for (std::int64_t i0 = first_query / kBlockQ * kBlockQ; i0 < shape.lq; i0 += kBlockQ) {
      const std::int64_t bq = std::min(kBlockQ, shape.lq - i0);
      const MatrixView q_block = rows_of(q, b, h, i0), dout_block = rows_of(dout, b, h, i0);
      gemm(p, kBlockK, q_block, k_block.transposed(), bq, bk, d);
      mask_tile(p, bq, bk, b, h, i0, j0, mask, shape);
      for (std::int64_t r = 0; r < bq; ++r) {
        // lse = -inf marks a row with no allowed key: shifting by +inf makes its P exactly 0.
        const float l = lse_h[i0 + r];
        kern.exp_row(p + r * kBlockK, p + r * kBlockK, bk, shape.scale, l == -kInf ? kInf : l);
      }
      gemm(dv_h + j0 * dvw, dvw, MatrixView{p, kBlockK, 1}.transposed(), dout_block, bk, dvw, bq,
           {}, true);
      gemm(ds, kBlockK, dout_block, v_block.transposed(), bq, bk, dvw);
      for (std::int64_t r = 0; r < bq; ++r)
        kern.softmax_grad_row(ds + r * kBlockK, p + r * kBlockK, ds + r * kBlockK, bk,
                              delta[i0 + r], shape.scale);
      const MatrixView ds_view = {ds, kBlockK, 1};
      gemm(dq_h + i0 * d, d, ds_view, k_block, bq, d, bk, {}, true);
      gemm(dk_h + j0 * d, d, ds_view.transposed(), q_block, bk, d, bq, {}, true);
    }
  }
}

}  // namespace

void attention(float* out, float* lse, AttentionView q, AttentionView k, AttentionView v,
               const AttentionMask& mask, const AttentionShape& shape) {
  const AttentionKernels& kern = RANVIER_ISA_TABLE(attention_kernels);
  const std::int64_t q_blocks = ceil_div(shape.lq, kBlockQ);
  const std::int64_t tasks = shape.batch * shape.heads * q_blocks;
  const std::int64_t task_macs =
      std::max<std::int64_t>(1, kBlockQ * shape.lk * (shape.d + shape.dv));
  parallel_for(tasks, kMinParallelMacs / task_macs, [&](std::int64_t begin, std::int64_t end) {
    float* buf = scratch(4, static_cast<std::size_t>(kTile + 2 * kBlockQ));
    for (std::int64_t t = begin; t < end; ++t) {
      const std::int64_t head = t / q_blocks, r = t % q_blocks;
      // Within a head, take query blocks from both ends in turn: under the
      // causal rule late blocks cost the most, and threads get contiguous
      // runs of tasks, so each run then mixes cheap and costly blocks.
      const std::int64_t block = r % 2 == 0 ? r / 2 : q_blocks - 1 - r / 2;
      forward_block(out, lse, q, k, v, mask, shape, kern, head / shape.heads, head % shape.heads,
                    block * kBlockQ, buf);
    }
  });
}

void attention_backward(float* dq, float* dk, float* dv, AttentionView dout, AttentionView out,
                        const float* lse, AttentionView q, AttentionView k, AttentionView v,
                        const AttentionMask& mask, const AttentionShape& shape) {
  const AttentionKernels& kern = RANVIER_ISA_TABLE(attention_kernels);
  const std::int64_t heads = shape.batch * shape.heads;
  const std::int64_t head_macs =
      std::max<std::int64_t>(1, shape.lq * shape.lk * (2 * shape.d + 2 * shape.dv));
  parallel_for(heads, kMinParallelMacs / head_macs, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t t = begin; t < end; ++t)
      backward_head(dq, dk, dv, dout, out, lse, q, k, v, mask, shape, kern, t / shape.heads,
                    t % shape.heads);
  });
}

}  // namespace ranvier::cpu

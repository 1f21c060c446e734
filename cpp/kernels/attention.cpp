// Attention in tiles (flash-attention 2 on a CPU). Every product is a call of
// the GEMM; between the GEMMs, per-ISA tile loops (attention_simd.cpp) do the
// exp and rescale work of the online softmax.
//
// Forward, per (b, h) and block of kFwdQ queries: for each block of kFwdK
// keys, S = Q K^T; masked logits become -inf; the running row max m and sum l
// (in logits, unscaled) are updated, the output rows rescaled by
// exp(scale (m_old - m_new)), and O += exp(scale (S - m)) V. At the end
// O /= l and lse = scale m + log l.
//
// Backward, per (b, h), in transposed tiles (kBwdK keys x kBwdQ queries): for
// each key block and each query block that can see it, P^T = exp(scale K Q^T
// - lse) is recomputed, then dV += P^T dO, dP^T = V dO^T,
// dS^T = scale P^T (dP^T - delta) with delta = rowsum(dO * O), dK += dS^T Q,
// and dQ += dS K with dS transposed back in registers. In that orientation
// every product reads its left operand in place (row-major).
//
// Every right operand is packed once per task (pack_b_for_gemm) and reused by
// all the task's blocks: K^T and V per head in the forward; Q^T, dO^T, dO and
// Q per head and K per key block in the backward. Scratch slot 4 holds them,
// the tiles and per-row values: O((Lq + Lk) D) floats per thread, never (Lq, Lk).
#include "ranvier/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "attention_kernels.h"
#include "ranvier/gemm.h"
#include "ranvier/index_math.h"
#include "ranvier/runtime.h"

namespace ranvier::cpu {

namespace {

// Block sizes. Tile rows are a multiple of the micro-kernels' 6 and 12 rows,
// and the depth of P V, P^T dO, dS^T Q and dS K (a block size) stays within
// one k block of the GEMM (128 or 192). 96 columns are one 6 x 64 panel and a
// half one; 128 (two whole panels) measured no faster, within the noise.
constexpr std::int64_t kFwdQ = 96;  // forward tile rows (queries)
constexpr std::int64_t kFwdK = 96;  // forward tile columns (keys)
constexpr std::int64_t kBwdK = 96;  // backward tile rows (keys)
constexpr std::int64_t kBwdQ = 96;  // backward tile columns (queries)
// Below this many multiply-adds per thread, waking another costs more than it saves.
constexpr std::int64_t kMinParallelMacs = 1 << 18;
constexpr float kInf = std::numeric_limits<float>::infinity();

// Rows [row0, ...) of head (b, h) of t as a (rows, cols) matrix.
MatrixView rows_of(const AttentionView& t, std::int64_t b, std::int64_t h, std::int64_t row0) {
  return {t.data + b * t.batch_stride + h * t.head_stride + row0 * t.row_stride, t.row_stride, t.col_stride};
}

// Keys a query may see under the causal rule: j < causal_end(i).
std::int64_t causal_end(const AttentionShape& s, std::int64_t i) {
  return std::clamp<std::int64_t>(i + 1 + s.lk - s.lq, 0, s.lk);
}

// How many tasks share the blocks of one head (each task packs the head's
// operands again): one when there are heads enough to keep every thread busy
// (a few each, so that the last one does not leave a thread idle for long);
// otherwise the fewest that give every thread the same number of tasks.
std::int64_t chunks_per_head(std::int64_t heads, std::int64_t blocks) {
  const std::int64_t threads = num_threads();
  if (threads <= 1 || heads <= 0 || heads >= 4 * threads) return 1;
  std::int64_t chunks = std::clamp<std::int64_t>(ceil_div(threads, heads), 1, std::max<std::int64_t>(1, blocks));
  while (heads * chunks % threads != 0 && chunks < blocks) ++chunks;
  return chunks;
}

// The mask entry of query i0, key j0 of head (b, h).
const std::uint8_t* mask_at(const AttentionMask& mask, std::int64_t b, std::int64_t h, std::int64_t i0,
                            std::int64_t j0) {
  return mask.data + b * mask.batch_stride + h * mask.head_stride + i0 * mask.query_stride + j0 * mask.key_stride;
}

// s[r * ld + c] = -inf where m[r * row_step + c * col_step] is 0 (may not attend).
void hide_masked(float* s, std::int64_t ld, std::int64_t rows, std::int64_t cols, const std::uint8_t* m,
                 std::int64_t row_step, std::int64_t col_step) {
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c)
      if (m[r * row_step + c * col_step] == 0) s[r * ld + c] = -kInf;
}

// ---- forward ------------------------------------------------------------------

struct Forward {
  float* out;
  float* lse;
  AttentionView q, k, v;
  const AttentionMask& mask;
  const AttentionShape& shape;
  const AttentionKernels& kern;

  std::int64_t key_blocks() const { return ceil_div(shape.lk, kFwdK); }
  std::int64_t kt_stride() const { return packed_b_floats(shape.d, kFwdK); }
  std::int64_t v_stride() const { return packed_b_floats(kFwdK, shape.dv); }
  std::int64_t scratch_floats() const { return key_blocks() * (kt_stride() + v_stride()) + kFwdQ * kFwdK + 4 * kFwdQ; }

  // Sets to -inf each logit of tile s (rows x cols, leading dimension kFwdK)
  // whose query i0 + r may not attend key j0 + c.
  void mask_tile(float* s, std::int64_t rows, std::int64_t cols, std::int64_t b, std::int64_t h, std::int64_t i0,
                 std::int64_t j0) const {
    if (mask.data != nullptr)
      hide_masked(s, kFwdK, rows, cols, mask_at(mask, b, h, i0, j0), mask.query_stride, mask.key_stride);
    if (shape.causal) {
      for (std::int64_t r = 0; r < rows; ++r) {
        const std::int64_t first_hidden = std::max<std::int64_t>(0, causal_end(shape, i0 + r) - j0);
        std::fill(s + r * kFwdK + std::min(first_hidden, cols), s + r * kFwdK + cols, -kInf);
      }
    }
  }

  // One block of queries [i0, i0 + bq) of head (b, h): out rows and lse.
  // kt, vp: the head's key blocks packed.
  void block(std::int64_t b, std::int64_t h, std::int64_t i0, const float* kt, const float* vp, float* buf) const {
    const std::int64_t bq = std::min(kFwdQ, shape.lq - i0);
    const std::int64_t row = (b * shape.heads + h) * shape.lq + i0;
    const std::int64_t off = shape.lk - shape.lq;
    float* o = out + row * shape.dv;
    float* s = buf;
    float* row_max = s + kFwdQ * kFwdK;
    float* row_sum = row_max + kFwdQ;
    float* tmp = row_sum + kFwdQ;
    std::memset(o, 0, static_cast<std::size_t>(bq * shape.dv) * sizeof(float));
    std::fill(row_max, row_max + bq, -kInf);
    std::fill(row_sum, row_sum + bq, 0.0f);
    const std::int64_t key_end = shape.causal ? causal_end(shape, i0 + bq - 1) : shape.lk;
    for (std::int64_t j0 = 0; j0 < key_end; j0 += kFwdK) {
      // Whole packed blocks: a block's packing is shared by every query block.
      const std::int64_t bk = std::min(kFwdK, shape.lk - j0);
      // Under the causal rule the first r0 rows see no key of this block.
      const std::int64_t r0 = shape.causal ? std::max<std::int64_t>(0, j0 - off - i0) : 0;
      const std::int64_t rows = bq - r0;
      float* sr0 = s + r0 * kFwdK;
      const std::int64_t jb = j0 / kFwdK;
      gemm_packed_b(sr0, kFwdK, rows_of(q, b, h, i0 + r0), kt + jb * kt_stride(), rows, bk, shape.d);
      mask_tile(sr0, rows, bk, b, h, i0 + r0, j0);
      kern.online_softmax(sr0, kFwdK, rows, bk, shape.scale, row_max + r0, row_sum + r0, o + r0 * shape.dv, shape.dv,
                          shape.dv, tmp);
      gemm_packed_b(o + r0 * shape.dv, shape.dv, {sr0, kFwdK, 1}, vp + jb * v_stride(), rows, shape.dv, bk, {}, true);
    }
    for (std::int64_t r = 0; r < bq; ++r) {
      if (row_sum[r] == 0.0f) {
        lse[row + r] = -kInf;  // no allowed key: the output row stays 0
      } else {                 // a NaN sum (a NaN logit) makes the row and its lse NaN
        kern.scale_row(o + r * shape.dv, shape.dv, 1.0f / row_sum[r]);
        lse[row + r] = shape.scale * row_max[r] + std::log(row_sum[r]);
      }
    }
  }

  // Query blocks c, c + chunks, c + 2 chunks, ... of head (b, h): interleaved,
  // so that under the causal rule every chunk mixes cheap and costly blocks.
  void task(std::int64_t b, std::int64_t h, std::int64_t c, std::int64_t chunks, float* buf) const {
    const std::int64_t q_blocks = ceil_div(shape.lq, kFwdQ);
    if (c >= q_blocks) return;
    const std::int64_t last = c + (q_blocks - 1 - c) / chunks * chunks;
    const std::int64_t key_end =
        shape.causal ? causal_end(shape, std::min(shape.lq, (last + 1) * kFwdQ) - 1) : shape.lk;
    float* kt = buf;
    float* vp = kt + key_blocks() * kt_stride();
    float* tile = vp + key_blocks() * v_stride();
    for (std::int64_t j0 = 0; j0 < key_end; j0 += kFwdK) {
      const std::int64_t bk = std::min(kFwdK, shape.lk - j0), jb = j0 / kFwdK;
      pack_b_for_gemm(kt + jb * kt_stride(), rows_of(k, b, h, j0).transposed(), shape.d, bk);
      pack_b_for_gemm(vp + jb * v_stride(), rows_of(v, b, h, j0), bk, shape.dv);
    }
    for (std::int64_t blk = c; blk < q_blocks; blk += chunks) block(b, h, blk * kFwdQ, kt, vp, tile);
  }
};

// ---- backward -----------------------------------------------------------------

struct Backward {
  float* dq;
  float* dk;
  float* dv;
  AttentionView dout, out;
  const float* lse;
  AttentionView q, k, v;
  const AttentionMask& mask;
  const AttentionShape& shape;
  const AttentionKernels& kern;

  std::int64_t query_blocks() const { return ceil_div(shape.lq, kBwdQ); }
  std::int64_t key_blocks() const { return ceil_div(shape.lk, kBwdK); }
  // Per query block: Q^T, dO^T, dO, Q packed; per key block: K.
  std::int64_t qt_stride() const { return packed_b_floats(shape.d, kBwdQ); }
  std::int64_t dot_stride() const { return packed_b_floats(shape.dv, kBwdQ); }
  std::int64_t do_stride() const { return packed_b_floats(kBwdQ, shape.dv); }
  std::int64_t qp_stride() const { return packed_b_floats(kBwdQ, shape.d); }
  std::int64_t scratch_floats() const {
    return query_blocks() * (qt_stride() + dot_stride() + do_stride() + qp_stride()) + packed_b_floats(kBwdK, shape.d) +
           2 * shape.lq + 3 * kBwdK * kBwdQ + 2 * shape.dv;
  }

  // Sets to -inf each logit of the transposed tile s (rows keys x cols
  // queries, leading dimension kBwdQ) whose query i0 + c may not attend key j0 + r.
  void mask_tile(float* s, std::int64_t rows, std::int64_t cols, std::int64_t b, std::int64_t h, std::int64_t i0,
                 std::int64_t j0) const {
    if (mask.data != nullptr)
      hide_masked(s, kBwdQ, rows, cols, mask_at(mask, b, h, i0, j0), mask.key_stride, mask.query_stride);
    if (shape.causal) {
      // Key j is visible to queries i >= j - (lk - lq).
      for (std::int64_t r = 0; r < rows; ++r) {
        const std::int64_t first_visible = j0 + r - (shape.lk - shape.lq) - i0;
        std::fill(s + r * kBwdQ, s + r * kBwdQ + std::clamp<std::int64_t>(first_visible, 0, cols), -kInf);
      }
    }
  }

  // The query blocks key block jb sees: [first_query_block(jb), query_blocks()).
  std::int64_t first_query_block(std::int64_t jb) const {
    return shape.causal ? std::max<std::int64_t>(0, jb * kBwdK - (shape.lk - shape.lq)) / kBwdQ : 0;
  }

  // Key blocks c, c + chunks, ... of head (b, h): the dk and dv rows of those
  // keys, and their part of dQ written to dq_part (Lq, D) (zeros where they
  // contribute nothing).
  void task(std::int64_t b, std::int64_t h, std::int64_t c, std::int64_t chunks, float* dq_part, float* buf) const {
    const std::int64_t d = shape.d, dvw = shape.dv, lq = shape.lq;
    const std::int64_t head = b * shape.heads + h;
    const std::int64_t off = shape.lk - shape.lq;
    float* dk_h = dk + head * shape.lk * d;
    float* dv_h = dv + head * shape.lk * dvw;
    const float* lse_h = lse + head * lq;

    float* qt = buf;
    float* dot = qt + query_blocks() * qt_stride();
    float* dop = dot + query_blocks() * dot_stride();
    float* qp = dop + query_blocks() * do_stride();
    float* kp = qp + query_blocks() * qp_stride();
    float* delta = kp + packed_b_floats(kBwdK, d);
    float* shift = delta + lq;
    float* p = shift + lq;            // P^T (keys, queries)
    float* dst = p + kBwdK * kBwdQ;   // dP^T, then dS^T
    float* ds = dst + kBwdK * kBwdQ;  // dS (queries, keys)
    float* tmp = ds + kBwdK * kBwdQ;  // gathered rows of dO and O

    // dQ rows no key block of this task reaches stay zero.
    const std::int64_t first_touched = c < key_blocks() ? first_query_block(c) * kBwdQ : lq;
    std::memset(dq_part, 0, static_cast<std::size_t>(std::min(first_touched, lq) * d) * sizeof(float));
    const MatrixView dout_h = rows_of(dout, b, h, 0), out_h = rows_of(out, b, h, 0);
    for (std::int64_t i = 0; i < lq; ++i) {
      const float* a = dout_h.data + i * dout_h.row_stride;
      const float* o = out_h.data + i * out_h.row_stride;
      if (dout_h.col_stride != 1 || out_h.col_stride != 1) {
        // Strided rows are gathered first, so the sum is the same as for contiguous ones.
        float* a_row = tmp;
        float* o_row = tmp + dvw;
        for (std::int64_t c2 = 0; c2 < dvw; ++c2) {
          a_row[c2] = a[c2 * dout_h.col_stride];
          o_row[c2] = o[c2 * out_h.col_stride];
        }
        a = a_row;
        o = o_row;
      }
      delta[i] = kern.dot(a, o, dvw);
      // lse = -inf marks a row with no allowed key: shifting by +inf makes its P exactly 0.
      shift[i] = lse_h[i] == -kInf ? kInf : lse_h[i];
    }
    for (std::int64_t ib = 0; ib * kBwdQ < lq; ++ib) {
      const std::int64_t i0 = ib * kBwdQ, bq = std::min(kBwdQ, lq - i0);
      const MatrixView q_block = rows_of(q, b, h, i0), dout_block = rows_of(dout, b, h, i0);
      pack_b_for_gemm(qt + ib * qt_stride(), q_block.transposed(), d, bq);
      pack_b_for_gemm(dot + ib * dot_stride(), dout_block.transposed(), dvw, bq);
      pack_b_for_gemm(dop + ib * do_stride(), dout_block, bq, dvw);
      pack_b_for_gemm(qp + ib * qp_stride(), q_block, bq, d);
    }

    for (std::int64_t jb = c; jb < key_blocks(); jb += chunks) {
      const std::int64_t j0 = jb * kBwdK, bk = std::min(kBwdK, shape.lk - j0);
      const MatrixView k_block = rows_of(k, b, h, j0), v_block = rows_of(v, b, h, j0);
      pack_b_for_gemm(kp, k_block, bk, d);
      const std::int64_t ib0 = first_query_block(jb);
      if (ib0 * kBwdQ >= lq) {  // no query at all
        std::memset(dk_h + j0 * d, 0, static_cast<std::size_t>(bk * d) * sizeof(float));
        std::memset(dv_h + j0 * dvw, 0, static_cast<std::size_t>(bk * dvw) * sizeof(float));
      }
      for (std::int64_t ib = ib0; ib * kBwdQ < lq; ++ib) {
        const std::int64_t i0 = ib * kBwdQ, bq = std::min(kBwdQ, lq - i0);
        // Keys past the last one this query block sees give zero rows.
        const std::int64_t rows = shape.causal ? std::min(bk, i0 + bq + off - j0) : bk;
        // The first query block writes dk and dv rows (the rows it does not reach are zeroed),
        // the next ones add to them; likewise the task's first key block for dq.
        const bool first_q = ib == ib0, first_k = jb == c;
        if (first_q && rows < bk) {
          std::memset(dk_h + (j0 + rows) * d, 0, static_cast<std::size_t>((bk - rows) * d) * sizeof(float));
          std::memset(dv_h + (j0 + rows) * dvw, 0, static_cast<std::size_t>((bk - rows) * dvw) * sizeof(float));
        }
        gemm_packed_b(p, kBwdQ, k_block, qt + ib * qt_stride(), rows, bq, d);
        mask_tile(p, rows, bq, b, h, i0, j0);
        kern.exp_tile(p, kBwdQ, rows, bq, shape.scale, shift + i0);
        gemm_packed_b(dv_h + j0 * dvw, dvw, {p, kBwdQ, 1}, dop + ib * do_stride(), rows, dvw, bq, {}, !first_q);
        gemm_packed_b(dst, kBwdQ, v_block, dot + ib * dot_stride(), rows, bq, dvw);
        kern.softmax_grad_tile(dst, p, kBwdQ, rows, bq, delta + i0, shape.scale);
        gemm_packed_b(dk_h + j0 * d, d, {dst, kBwdQ, 1}, qp + ib * qp_stride(), rows, d, bq, {}, !first_q);
        kern.transpose(ds, kBwdK, dst, kBwdQ, rows, bq);
        // kp is packed for depth bk: a tile cut short by the causal rule takes K as it is.
        if (rows == bk) {
          gemm_packed_b(dq_part + i0 * d, d, {ds, kBwdK, 1}, kp, bq, d, rows, {}, !first_k);
        } else {
          gemm(dq_part + i0 * d, d, {ds, kBwdK, 1}, k_block, bq, d, rows, {}, !first_k);
        }
      }
    }
  }
};

}  // namespace

void attention(float* out, float* lse, AttentionView q, AttentionView k, AttentionView v, const AttentionMask& mask,
               const AttentionShape& shape) {
  const Forward fwd{out, lse, q, k, v, mask, shape, RANVIER_ISA_TABLE(attention_kernels)};
  const std::int64_t heads = shape.batch * shape.heads;
  const std::int64_t chunks = chunks_per_head(heads, ceil_div(shape.lq, kFwdQ));
  const std::int64_t task_macs =
      std::max<std::int64_t>(1, ceil_div(shape.lq, chunks) * shape.lk * (shape.d + shape.dv));
  const std::size_t floats = static_cast<std::size_t>(fwd.scratch_floats());
  parallel_tasks(heads * chunks, kMinParallelMacs / task_macs, [&](std::int64_t t) {
    const std::int64_t head = t / chunks;
    fwd.task(head / shape.heads, head % shape.heads, t % chunks, chunks, scratch(ScratchSlot::attention, floats));
  });
}

void attention_backward(float* dq, float* dk, float* dv, AttentionView dout, AttentionView out, const float* lse,
                        AttentionView q, AttentionView k, AttentionView v, const AttentionMask& mask,
                        const AttentionShape& shape) {
  const Backward bwd{dq, dk, dv, dout, out, lse, q, k, v, mask, shape, RANVIER_ISA_TABLE(attention_kernels)};
  const std::int64_t heads = shape.batch * shape.heads;
  const std::int64_t chunks = chunks_per_head(heads, bwd.key_blocks());
  const std::int64_t task_macs =
      std::max<std::int64_t>(1, shape.lq * ceil_div(shape.lk, chunks) * (2 * shape.d + 2 * shape.dv));
  const std::int64_t head_dq = shape.lq * shape.d;
  // One task per head: it writes its dq rows itself. Several tasks per head:
  // each writes its own part of dq, summed into dq afterwards; the parts are
  // shared, so they come first in the calling thread's scratch, and every
  // thread's own floats follow them (the calling thread gets the same buffer
  // back inside the loop; the other threads leave that part of theirs unused).
  const bool split = chunks > 1;
  const std::int64_t shared = split ? heads * chunks * head_dq : 0;
  const std::size_t floats = static_cast<std::size_t>(shared + bwd.scratch_floats());
  float* parts = scratch(ScratchSlot::attention, floats);
  parallel_tasks(heads * chunks, kMinParallelMacs / task_macs, [&](std::int64_t t) {
    const std::int64_t head = t / chunks;
    float* dq_part = split ? parts + t * head_dq : dq + head * head_dq;
    bwd.task(head / shape.heads, head % shape.heads, t % chunks, chunks, dq_part,
             scratch(ScratchSlot::attention, floats) + shared);
  });
  if (split) {
    parallel_for(heads, kMinParallelMacs / std::max<std::int64_t>(1, chunks * head_dq),
                 [&](std::int64_t begin, std::int64_t end) {
                   for (std::int64_t head = begin; head < end; ++head) {
                     float* out_rows = dq + head * head_dq;
                     const float* part = parts + head * chunks * head_dq;
                     std::copy(part, part + head_dq, out_rows);
                     for (std::int64_t c = 1; c < chunks; ++c)
                       for (std::int64_t i = 0; i < head_dq; ++i) out_rows[i] += part[c * head_dq + i];
                   }
                 });
  }
}

}  // namespace ranvier::cpu

// Scaled dot-product attention, flash-attention style: computed in tiles with
// an online softmax, so neither direction ever holds the (Lq, Lk) matrix.
#pragma once

#include <cstdint>

namespace ranvier::cpu {

// A read-only (B, H, L, D) array with arbitrary strides (in elements), so a
// (B, L, H, D) tensor viewed as (B, H, L, D) is read in place.
struct AttentionView {
  const float* data;
  std::int64_t batch_stride, head_stride, row_stride, col_stride;
};

// Boolean mask broadcast to (B, H, Lq, Lk): element (b, h, i, j) is
// data[b*batch_stride + h*head_stride + i*query_stride + j*key_stride], nonzero
// = may attend. Broadcast axes have stride 0. data == nullptr: no mask.
struct AttentionMask {
  const std::uint8_t* data = nullptr;
  std::int64_t batch_stride = 0, head_stride = 0, query_stride = 0, key_stride = 0;
};

struct AttentionShape {
  std::int64_t batch, heads, lq, lk, d, dv;
  float scale;  // > 0: logits are scale * q . k
  // Query i may attend key j only when j <= i + (lk - lq): the causal diagonal
  // is aligned to the bottom-right corner, as in flash-attention, so the last
  // query sees every key (the usual case lq == lk is the plain lower triangle).
  bool causal;
};

// q (B,H,Lq,D), k (B,H,Lk,D), v (B,H,Lk,Dv) -> out (B,H,Lq,Dv), lse (B,H,Lq)
// contiguous. lse is the natural log of the sum over allowed keys of
// exp(scale * q.k); a row with no allowed key gets out = 0 and lse = -inf.
void attention(float* out, float* lse, AttentionView q, AttentionView k, AttentionView v, const AttentionMask& mask,
               const AttentionShape& shape);

// dout, out (B,H,Lq,Dv), lse (B,H,Lq) from attention(), q, k, v as there
//   -> dq (B,H,Lq,D), dk (B,H,Lk,D), dv (B,H,Lk,Dv) contiguous.
// Rows with lse = -inf (no allowed key) contribute nothing.
void attention_backward(float* dq, float* dk, float* dv, AttentionView dout, AttentionView out, const float* lse,
                        AttentionView q, AttentionView k, AttentionView v, const AttentionMask& mask,
                        const AttentionShape& shape);

}  // namespace ranvier::cpu

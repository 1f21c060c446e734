// Scaled dot-product attention on the GPU, flash-attention style: the same
// operations, layouts and semantics as ranvier/attention.h (ranvier::cpu),
// plus the stream. Neither direction writes an (Lq, Lk) matrix to memory.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ranvier/attention.h"

namespace ranvier::cuda {

// The CPU descriptions serve for device arrays: data are device pointers and
// strides are in elements (any, including 0 and negative).
using cpu::AttentionMask;
using cpu::AttentionShape;
using cpu::AttentionView;

// q (B,H,Lq,D), k (B,H,Lk,D), v (B,H,Lk,Dv) -> out (B,H,Lq,Dv), lse (B,H,Lq)
// contiguous. lse is the natural log of the sum over allowed keys of
// exp(scale * q.k); a row with no allowed key gets out = 0 and lse = -inf.
cudaError_t attention(float* out, float* lse, AttentionView q, AttentionView k, AttentionView v,
                      const AttentionMask& mask, const AttentionShape& shape, cudaStream_t stream);

// dout, out (B,H,Lq,Dv), lse (B,H,Lq) from attention(), q, k, v as there
//   -> dq (B,H,Lq,D), dk (B,H,Lk,D), dv (B,H,Lk,Dv) contiguous, every element
//      written. delta_scratch (B*H*Lq) holds rowsum(dout * out).
// No atomics: dq and dk, dv come from separate passes, so the result does not
// vary from run to run.
cudaError_t attention_backward(float* dq, float* dk, float* dv, float* delta_scratch, AttentionView dout,
                               AttentionView out, const float* lse, AttentionView q, AttentionView k, AttentionView v,
                               const AttentionMask& mask, const AttentionShape& shape, cudaStream_t stream);

}  // namespace ranvier::cuda

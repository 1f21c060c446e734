"""Scaled dot-product attention on (B, H, L, D) Tensors, flash-style (no L x L matrix kept)."""

from __future__ import annotations

from ranvier import ops
from ranvier.functional.arithmetic import as_tensor
from ranvier.tensor import Tensor, make_result


def attention(q, k, v, mask=None, causal: bool = False, scale=None) -> Tensor:
    """softmax(scale * q k^T [masked]) v; mask is boolean (True = attend), causal aligned bottom-right."""
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    mask_data = mask.data if isinstance(mask, Tensor) else mask
    out, lse = ops.attention(q.data, k.data, v.data, mask=mask_data, causal=causal, scale=scale, return_lse=True)

    def backward(g):
        return ops.attention_backward(g, q.data, k.data, v.data, out, lse, mask=mask_data, causal=causal, scale=scale)

    return make_result(out, (q, k, v), backward)

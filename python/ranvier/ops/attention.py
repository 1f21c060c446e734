"""Scaled dot-product attention and its backward, computed in tiles.

Layout (B, H, L, D). The logits are ``scale * q @ k^T`` with ``scale``
defaulting to ``1 / sqrt(D)``. ``mask`` is boolean, True = may attend (like
PyTorch SDPA's boolean ``attn_mask``), of any shape that broadcasts to
(B, H, Lq, Lk): (Lq, Lk), (B, 1, 1, Lk), (B, 1, Lq, Lk), (B, H, Lq, Lk), ...
It is broadcast as a view, never copied. ``causal=True`` lets query i attend
key j only when ``j <= i + (Lk - Lq)``: the diagonal is aligned to the
bottom-right corner, as in flash-attention, so with Lq == Lk it is the lower
triangle and the last query always sees every key. Mask and causal may be
combined (a key must pass both). A query with no allowed key outputs zeros,
has lse = -inf and gets zero gradient.

The kernel never forms the (Lq, Lk) matrix: ``attention(..., return_lse=True)``
also returns the row log-sum-exp ``lse`` (B, H, Lq) of the scaled logits,
from which ``attention_backward`` recomputes the probabilities tile by tile.
q, k, v may be strided views (e.g. a (B, L, H, D) array transposed to
(B, H, L, D)); they are read in place.
"""

from __future__ import annotations

from ranvier import backend

__all__ = ["attention", "attention_backward"]


def attention(q, k, v, mask=None, causal: bool = False, scale=None, return_lse: bool = False):
    """softmax(scale * q @ k^T, masked) @ v.

    q (B, H, Lq, D), k (B, H, Lk, D), v (B, H, Lk, Dv) -> out (B, H, Lq, Dv),
    or (out, lse) with lse (B, H, Lq) when ``return_lse`` is true.
    """
    out, lse = backend.kernels(q).attention(q, k, v, mask, causal, scale)
    return (out, lse) if return_lse else out


def attention_backward(dout, q, k, v, out, lse, mask=None, causal: bool = False, scale=None):
    """Gradients of ``attention``: returns (dq, dk, dv).

    dout and out (B, H, Lq, Dv), lse (B, H, Lq): dL/d(out), and the forward's
    out and lse (``attention(..., return_lse=True)``). mask, causal and scale
    must be those of the forward.
    """
    return backend.kernels(q).attention_backward(dout, q, k, v, out, lse, mask, causal, scale)

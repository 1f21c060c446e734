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

import math
import numbers

import numpy as np

from ranvier import backend
from ranvier.ops import _checks

__all__ = ["attention", "attention_backward"]


def _scale(op: str, scale, d: int) -> float:
    if scale is None:
        return 1.0 / math.sqrt(d)
    if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, numbers.Real):
        raise TypeError(f"[{op}] scale must be None or a real number, got {type(scale).__name__}")
    scale = float(scale)
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"[{op}] scale must be finite and > 0, got {scale}")
    return scale


def _qkv(op: str, q, k, v):
    q = _checks.float32(op, "q", q, layout="(B, H, Lq, D)", ndim=4)
    k = _checks.float32(op, "k", k, layout="(B, H, Lk, D)", ndim=4)
    v = _checks.float32(op, "v", v, layout="(B, H, Lk, Dv)", ndim=4)
    _checks.same_device(op, q=q, k=k, v=v)
    b, h, _, d = q.shape
    if k.shape[:2] != (b, h) or v.shape[:2] != (b, h):
        raise ValueError(
            f"[{op}] q, k and v must share (B, H), got q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}"
        )
    if k.shape[3] != d:
        raise ValueError(f"[{op}] k must have the head dim D={d} of q, got k {tuple(k.shape)}")
    if v.shape[2] != k.shape[2]:
        raise ValueError(
            f"[{op}] v must have the length Lk={k.shape[2]} of k, got v {tuple(v.shape)}"
        )
    if d == 0:
        raise ValueError(f"[{op}] q and k must have a head dim D >= 1, got q {tuple(q.shape)}")
    return q, k, v


def _mask(op: str, mask, shape):
    """``mask`` as a bool view of ``shape`` (B, H, Lq, Lk); broadcast axes have stride 0."""
    if mask is None:
        return None
    mask = _checks.as_array(op, "mask", mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"[{op}] mask must be a bool array (True = attend), got {_checks.describe(mask)}")
    try:
        fits = mask.ndim <= 4 and np.broadcast_shapes(mask.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"[{op}] mask must broadcast to (B, H, Lq, Lk) = {shape}, got {_checks.describe(mask)}")
    return backend.array_module(mask).broadcast_to(mask, shape)


def _args(op: str, q, k, v, mask, scale):
    q, k, v = _qkv(op, q, k, v)
    b, h, lq, d = q.shape
    mask = _mask(op, mask, (b, h, lq, k.shape[2]))
    _checks.same_device(op, q=q, mask=mask)
    return q, k, v, mask, _scale(op, scale, d)


def attention(q, k, v, mask=None, causal: bool = False, scale=None, return_lse: bool = False):
    """softmax(scale * q @ k^T, masked) @ v.

    q (B, H, Lq, D), k (B, H, Lk, D), v (B, H, Lk, Dv) -> out (B, H, Lq, Dv),
    or (out, lse) with lse (B, H, Lq) when ``return_lse`` is true.
    """
    op = "attention"
    q, k, v, mask, scale = _args(op, q, k, v, mask, scale)
    b, h, lq, _ = q.shape
    out = backend.empty(q, (b, h, lq, v.shape[3]))
    lse = backend.empty(q, (b, h, lq))
    backend.kernels(q).attention(out, lse, q, k, v, mask, bool(causal), scale)
    return (out, lse) if return_lse else out


def attention_backward(dout, q, k, v, out, lse, mask=None, causal: bool = False, scale=None):
    """Gradients of ``attention``: returns (dq, dk, dv).

    dout and out (B, H, Lq, Dv), lse (B, H, Lq): dL/d(out), and the forward's
    out and lse (``attention(..., return_lse=True)``). mask, causal and scale
    must be those of the forward.
    """
    op = "attention_backward"
    q, k, v, mask, scale = _args(op, q, k, v, mask, scale)
    b, h, lq, _ = q.shape
    want = (b, h, lq, v.shape[3])
    dout = _checks.float32(op, "dout", dout, layout="(B, H, Lq, Dv)", ndim=4)
    out = _checks.float32(op, "out", out, layout="(B, H, Lq, Dv)", ndim=4)
    lse = _checks.float32(op, "lse", lse, layout="(B, H, Lq)", ndim=3)
    for name, a, shape in (("dout", dout, want), ("out", out, want), ("lse", lse, want[:3])):
        if tuple(a.shape) != shape:
            raise ValueError(f"[{op}] {name} must be {shape} float32 to match q and v, got {_checks.describe(a)}")
    _checks.same_device(op, q=q, dout=dout, out=out, lse=lse)
    dq = backend.empty(q, q.shape)
    dk = backend.empty(q, k.shape)
    dv = backend.empty(q, v.shape)
    backend.kernels(q).attention_backward(
        dq, dk, dv, dout, out, _checks.contiguous(lse), q, k, v, mask, bool(causal), scale
    )
    return dq, dk, dv

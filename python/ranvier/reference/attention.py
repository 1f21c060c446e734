"""Scaled dot-product attention, plainly: the whole (Lq, Lk) matrix at once.

Same conventions as ``ranvier.ops.attention``: mask True = attend, causal
lets query i see keys j <= i + (Lk - Lq) (bottom-right aligned), a query with
no allowed key outputs zeros, has lse = -inf and gets zero gradient.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["attention", "attention_backward"]


def _probabilities(q, k, mask, causal, scale):
    """(P, lse): softmax over allowed keys of scale * q @ k^T, and its log-sum-exp."""
    lq, lk = q.shape[-2], k.shape[-2]
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = scale * (q @ np.swapaxes(k, -1, -2))
    allowed = np.ones((lq, lk), dtype=bool)
    if causal:
        allowed = np.arange(lk)[None, :] <= np.arange(lq)[:, None] + (lk - lq)
    if mask is not None:
        allowed = allowed & mask
    s = np.where(allowed, s, -np.inf)
    m = np.max(s, axis=-1, keepdims=True) if lk > 0 else np.full(s.shape[:-1] + (1,), -np.inf)
    m = np.where(np.isfinite(m), m, 0)  # rows with no allowed key: every e below is 0
    e = np.exp(s - m)
    total = np.sum(e, axis=-1, keepdims=True)
    p = e / np.where(total > 0, total, 1)
    with np.errstate(divide="ignore"):
        lse = (m + np.log(total))[..., 0]
    return p, lse


def attention(q, k, v, mask=None, causal=False, scale=None, return_lse=False):
    p, lse = _probabilities(q, k, mask, causal, scale)
    out = p @ v
    return (out, lse) if return_lse else out


def attention_backward(dout, q, k, v, out, lse, mask=None, causal=False, scale=None):
    """(dq, dk, dv); recomputes P from q and k (out and lse are not needed here)."""
    p, _ = _probabilities(q, k, mask, causal, scale)
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    dv = np.swapaxes(p, -1, -2) @ dout
    dp = dout @ np.swapaxes(v, -1, -2)
    ds = p * (dp - np.sum(dp * p, axis=-1, keepdims=True))
    return scale * (ds @ k), scale * (np.swapaxes(ds, -1, -2) @ q), dv

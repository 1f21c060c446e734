"""Layer normalisation, plainly."""

from __future__ import annotations

import numpy as np

__all__ = ["layer_norm", "layer_norm_backward"]


def layer_norm(x, gamma, beta, eps=1e-5, return_stats=False):
    mean = x.mean(axis=-1)
    var = ((x - mean[..., None]) ** 2).mean(axis=-1)
    rstd = 1 / np.sqrt(var + eps)
    y = (x - mean[..., None]) * rstd[..., None] * gamma + beta
    return (y, mean, rstd) if return_stats else y


def layer_norm_backward(dy, x, gamma, mean, rstd):
    """(dx, dgamma, dbeta) of layer_norm."""
    xhat = (x - mean[..., None]) * rstd[..., None]
    g = dy * gamma
    dx = rstd[..., None] * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    rows = tuple(range(x.ndim - 1))
    return dx, (dy * xhat).sum(axis=rows), dy.sum(axis=rows)

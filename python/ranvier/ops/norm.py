"""Layer normalisation over the last axis and its backward."""

from __future__ import annotations

from ranvier import backend

__all__ = ["layer_norm", "layer_norm_backward"]


def layer_norm(x, gamma, beta, eps: float = 1e-5, return_stats: bool = False):
    """Normalise x (..., D) over its last axis, then scale and shift:

        y = (x - mean) / sqrt(var + eps) * gamma + beta

    with mean and the biased variance var over the D features of each row;
    gamma, beta (D,). With ``return_stats=True`` returns (y, mean, rstd), where
    mean and rstd = 1 / sqrt(var + eps) have shape x.shape[:-1] and are what
    ``layer_norm_backward`` needs. The statistics are accurate for rows whose
    mean is large against their spread (one-pass Welford in float32).
    """
    return backend.kernels(x).layer_norm(x, gamma, beta, eps, return_stats)


def layer_norm_backward(dy, x, gamma, mean, rstd):
    """Gradients of ``layer_norm``: returns (dx, dgamma, dbeta).

    dy, x (..., D); gamma (D,); mean, rstd (...) from
    ``layer_norm(..., return_stats=True)``. With xhat = (x - mean) * rstd and
    g = dy * gamma:  dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) (means
    over D), dgamma = sum of dy * xhat and dbeta = sum of dy over all rows.
    """
    return backend.kernels(x).layer_norm_backward(dy, x, gamma, mean, rstd)

"""Layer normalisation over the last axis and its backward."""
from __future__ import annotations

from ranvier import backend
from ranvier.ops import _checks

__all__ = ["layer_norm", "layer_norm_backward"]


def _x_and_features(op: str, x, name: str = "x"):
    x = _checks.float32(op, name, x)
    if x.ndim < 1 or x.shape[-1] == 0:
        raise ValueError(f"[{op}] {name} must be (..., D) float32 with D >= 1, got {_checks.describe(x)}")
    return x, x.shape[-1]


def _vector(op: str, name: str, a, d: int, x):
    a = _checks.float32(op, name, a, layout="(D,)", ndim=1)
    if a.shape[0] != d:
        raise ValueError(f"[{op}] {name} must be ({d},) to match x {tuple(x.shape)}, got {tuple(a.shape)}")
    return _checks.contiguous(a)


def _rows(x, d: int):
    """x (..., D) as a contiguous (rows, D) array (a copy only when no view exists)."""
    return _checks.contiguous(x.reshape(-1, d))


def layer_norm(x, gamma, beta, eps: float = 1e-5, return_stats: bool = False):
    """Normalise x (..., D) over its last axis, then scale and shift:

        y = (x - mean) / sqrt(var + eps) * gamma + beta

    with mean and the biased variance var over the D features of each row;
    gamma, beta (D,). With ``return_stats=True`` returns (y, mean, rstd), where
    mean and rstd = 1 / sqrt(var + eps) have shape x.shape[:-1] and are what
    ``layer_norm_backward`` needs. The statistics are accurate for rows whose
    mean is large against their spread (one-pass Welford in float32).
    """
    op = "layer_norm"
    x, d = _x_and_features(op, x)
    gamma = _vector(op, "gamma", gamma, d, x)
    beta = _vector(op, "beta", beta, d, x)
    eps = _checks.real(op, "eps", eps, low=0)
    _checks.same_device(op, x=x, gamma=gamma, beta=beta)
    x2 = _rows(x, d)
    y = backend.empty_like(x2)
    mean = rstd = None
    if return_stats:
        mean = backend.empty(x, (x2.shape[0],))
        rstd = backend.empty(x, (x2.shape[0],))
    backend.kernels(x).layer_norm(y, mean, rstd, x2, gamma, beta, eps)
    y = y.reshape(x.shape)
    if not return_stats:
        return y
    return y, mean.reshape(x.shape[:-1]), rstd.reshape(x.shape[:-1])


def layer_norm_backward(dy, x, gamma, mean, rstd):
    """Gradients of ``layer_norm``: returns (dx, dgamma, dbeta).

    dy, x (..., D); gamma (D,); mean, rstd (...) from
    ``layer_norm(..., return_stats=True)``. With xhat = (x - mean) * rstd and
    g = dy * gamma:  dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) (means
    over D), dgamma = sum of dy * xhat and dbeta = sum of dy over all rows.
    """
    op = "layer_norm_backward"
    x, d = _x_and_features(op, x)
    dy = _checks.float32(op, "dy", dy)
    if dy.shape != x.shape:
        raise ValueError(f"[{op}] dy must be {tuple(x.shape)} float32 to match x, got {_checks.describe(dy)}")
    gamma = _vector(op, "gamma", gamma, d, x)
    stats = []
    for name, s in (("mean", mean), ("rstd", rstd)):
        s = _checks.float32(op, name, s)
        if s.shape != x.shape[:-1]:
            raise ValueError(
                f"[{op}] {name} must be {tuple(x.shape[:-1])} float32 (x's shape without its last axis), "
                f"got {_checks.describe(s)}"
            )
        stats.append(_checks.contiguous(s.reshape(-1)))
    _checks.same_device(op, dy=dy, x=x, gamma=gamma, mean=stats[0], rstd=stats[1])
    x2 = _rows(x, d)
    dx = backend.empty_like(x2)
    dgamma = backend.empty(x, (d,))
    dbeta = backend.empty(x, (d,))
    backend.kernels(x).layer_norm_backward(dx, dgamma, dbeta, _rows(dy, d), x2, gamma, *stats)
    return dx.reshape(x.shape), dgamma, dbeta

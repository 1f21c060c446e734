"""Softmax and log-softmax along any axis, their backward, and the fused
softmax cross-entropy loss.

The kernels work on rows of the last axis; another axis is moved last (a copy)
and the result moved back (a view). Every row is shifted by its maximum, so
any finite input, ±1e4 included, gives finite results. A NaN in a row makes
the whole row NaN.
"""
from __future__ import annotations

import numbers

import numpy as np

from ranvier import backend
from ranvier.ops import _checks
from ranvier.ops._losses import reduction_arg, upstream_gradient

__all__ = [
    "softmax",
    "log_softmax",
    "softmax_backward",
    "log_softmax_backward",
    "softmax_cross_entropy",
    "softmax_cross_entropy_backward",
]


def _axis(op: str, axis, ndim: int) -> int:
    if ndim == 0:
        raise ValueError(f"[{op}] x must have at least one axis, got a 0-d array")
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"[{op}] axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"[{op}] axis {axis} is out of range for an array of rank {ndim}")
    return int(axis) % ndim


def _rows(a, axis: int):
    """a with `axis` moved last, C-contiguous."""
    xp = backend.array_module(a)
    return _checks.contiguous(xp.moveaxis(a, axis, -1) if axis != a.ndim - 1 else a)


def _unrows(a, axis: int):
    """Inverse of _rows (a view)."""
    return backend.array_module(a).moveaxis(a, -1, axis) if axis != a.ndim - 1 else a


def _forward(op: str, x, axis):
    x = _checks.float32(op, "x", x)
    axis = _axis(op, axis, x.ndim)
    xr = _rows(x, axis)
    y = backend.empty_like(xr)
    getattr(backend.kernels(xr), op)(y, xr)
    return _unrows(y, axis)


def _backward(op: str, dy, y, axis):
    dy = _checks.float32(op, "dy", dy)
    y = _checks.float32(op, "y", y)
    _checks.same_device(op, dy=dy, y=y)
    if dy.shape != y.shape:
        raise ValueError(f"[{op}] dy and y must have the same shape, got {tuple(dy.shape)} and {tuple(y.shape)}")
    axis = _axis(op, axis, y.ndim)
    dyr, yr = _rows(dy, axis), _rows(y, axis)
    dx = backend.empty_like(yr)
    getattr(backend.kernels(yr), op)(dx, dyr, yr)
    return _unrows(dx, axis)


def softmax(x, axis=-1):
    """exp(x - max) / sum(exp(x - max)) along ``axis``; same shape as x."""
    return _forward("softmax", x, axis)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``; same shape as x."""
    return _forward("log_softmax", x, axis)


def softmax_backward(dy, y, axis=-1):
    """dx = y * (dy - sum(dy * y)) along ``axis``, from the forward output y."""
    return _backward("softmax_backward", dy, y, axis)


def log_softmax_backward(dy, y, axis=-1):
    """dx = dy - exp(y) * sum(dy) along ``axis``, from the forward output y."""
    return _backward("log_softmax_backward", dy, y, axis)


def _cross_entropy_args(op: str, logits, labels):
    """logits (N, C) float32 and labels as int64 (N,) or float32 (N, C), both contiguous."""
    logits = _checks.contiguous(_checks.float32(op, "logits", logits, layout="(N, C)", ndim=2))
    n, c = (int(d) for d in logits.shape)
    if c == 0:
        raise ValueError(f"[{op}] logits must have at least one class, got {_checks.describe(logits)}")
    labels = _checks.as_array(op, "labels", labels)
    _checks.same_device(op, logits=logits, labels=labels)
    xp = backend.array_module(logits)
    if labels.dtype.kind in "iu":
        if tuple(labels.shape) != (n,):
            raise ValueError(f"[{op}] integer labels must be ({n},) to match logits {(n, c)}, got {_checks.describe(labels)}")
        # The range is checked by the kernel module: the CPU binding in a pass
        # over the labels, the CUDA kernels on the device (a flag read after the
        # launch); both raise "[op] labels must be class indices in [0, C), got
        # <label> at position <i>" for the first bad label.
        return logits, _checks.contiguous(labels.astype(np.int64, copy=False))
    if labels.dtype != np.float32:
        raise TypeError(
            f"[{op}] labels must be integer class indices (N,) or float32 probabilities (N, C), "
            f"got {_checks.describe(labels)}"
        )
    if tuple(labels.shape) != (n, c):
        raise ValueError(f"[{op}] probability labels must be {(n, c)} to match logits, got {_checks.describe(labels)}")
    if bool(xp.isnan(labels).any()):
        raise ValueError(f"[{op}] labels contain NaN")
    return logits, _checks.contiguous(labels)


def softmax_cross_entropy(logits, labels, reduction="mean"):
    """Cross-entropy of softmax(logits) against labels, fused and stable.

    logits (N, C) float32; labels either integer class indices (N,) (any int
    dtype) or float32 probabilities (N, C). Per sample,
    loss_i = logsumexp(logits_i) - sum_j t_ij logits_ij, computed from the
    row's maximum in one kernel (no softmax array), finite for any finite
    logits. reduction: "mean" and "sum" give a 0-d array, "none" the (N,) losses.
    The mean of an empty batch is NaN, as in NumPy.
    """
    op = "softmax_cross_entropy"
    reduction = reduction_arg(op, reduction)
    logits, labels = _cross_entropy_args(op, logits, labels)
    n = logits.shape[0]
    loss = backend.empty(logits, (n if reduction == "none" else 1,))
    backend.kernels(logits).softmax_cross_entropy(loss, logits, labels, reduction)
    return loss if reduction == "none" else loss.reshape(())


def softmax_cross_entropy_backward(logits, labels, reduction="mean", dloss=1.0):
    """dlogits (N, C) of softmax_cross_entropy, in one pass over the logits.

    dlogits_i = (softmax(logits_i) * sum_j t_ij - t_i) * dloss_i, divided by N
    for "mean" (t the one-hot rows for integer labels, so softmax - onehot).
    dloss is dL/d(loss): a scalar for "mean" and "sum"; for "none" an (N,)
    float32 array (or a scalar, used for every sample).
    """
    op = "softmax_cross_entropy_backward"
    reduction = reduction_arg(op, reduction)
    logits, labels = _cross_entropy_args(op, logits, labels)
    n = logits.shape[0]
    dloss_array, scale = upstream_gradient(op, dloss, reduction, n, "logits", logits)
    dlogits = backend.empty_like(logits)
    backend.kernels(logits).softmax_cross_entropy_backward(dlogits, logits, labels, dloss_array, scale)
    return dlogits

"""Matrix products and the dense layer, plainly."""

from __future__ import annotations

import numpy as np

from ranvier.reference import activation as _act

__all__ = ["matmul", "linear", "linear_backward"]


def matmul(a, b, transpose_a=False, transpose_b=False):
    if transpose_a and a.ndim >= 2:
        a = np.swapaxes(a, -1, -2)
    if transpose_b and b.ndim >= 2:
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


def linear(x, w, b=None, activation=None):
    z = x @ w
    if b is not None:
        z = z + b
    return _act.FORWARD[activation or "none"](z)


def linear_backward(dy, x, w, activation=None, y=None, z=None):
    """(dx, dw, db) of linear; y is the forward output, z the pre-activation."""
    dz = _act.backward(activation, dy, y, z)
    rows = int(np.prod(x.shape[:-1]))  # not -1: ambiguous when a size is 0
    x2 = x.reshape(rows, x.shape[-1])
    dz2 = dz.reshape(rows, w.shape[1])
    return (dz @ w.T).reshape(x.shape), x2.T @ dz2, dz2.sum(axis=0)

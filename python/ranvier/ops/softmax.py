"""Softmax and log-softmax along any axis, their backward, and the fused
softmax cross-entropy loss.

The kernels work on rows of the last axis; the compiled module moves another
axis last (a copy) and the result back (a view). Every row is shifted by its
maximum, so any finite input, ±1e4 included, gives finite results. A NaN in a
row makes the whole row NaN.
"""

from __future__ import annotations

from ranvier import backend

__all__ = [
    "softmax",
    "log_softmax",
    "softmax_backward",
    "log_softmax_backward",
    "softmax_cross_entropy",
    "softmax_cross_entropy_backward",
]


def softmax(x, axis=-1):
    """exp(x - max) / sum(exp(x - max)) along ``axis``; same shape as x."""
    return backend.kernels(x).softmax(x, axis)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``; same shape as x."""
    return backend.kernels(x).log_softmax(x, axis)


def softmax_backward(dy, y, axis=-1):
    """dx = y * (dy - sum(dy * y)) along ``axis``, from the forward output y."""
    return backend.kernels(y).softmax_backward(dy, y, axis)


def log_softmax_backward(dy, y, axis=-1):
    """dx = dy - exp(y) * sum(dy) along ``axis``, from the forward output y."""
    return backend.kernels(y).log_softmax_backward(dy, y, axis)


def softmax_cross_entropy(logits, labels, reduction="mean"):
    """Cross-entropy of softmax(logits) against labels, fused and stable.

    logits (N, C) float32; labels either integer class indices (N,) (any int
    dtype) or float32 probabilities (N, C). Per sample,
    loss_i = logsumexp(logits_i) - sum_j t_ij logits_ij, computed from the
    row's maximum in one kernel (no softmax array), finite for any finite
    logits. reduction: "mean" and "sum" give a 0-d array, "none" the (N,) losses.
    The mean of an empty batch is NaN, as in NumPy. A class index outside
    [0, C) or a NaN among probabilities is a ValueError.
    """
    return backend.kernels(logits).softmax_cross_entropy(logits, labels, reduction)


def softmax_cross_entropy_backward(logits, labels, reduction="mean", dloss=1.0):
    """dlogits (N, C) of softmax_cross_entropy, in one pass over the logits.

    dlogits_i = (softmax(logits_i) * sum_j t_ij - t_i) * dloss_i, divided by N
    for "mean" (t the one-hot rows for integer labels, so softmax - onehot).
    dloss is dL/d(loss): a scalar for "mean" and "sum"; for "none" an (N,)
    float32 array (or a scalar, used for every sample).
    """
    return backend.kernels(logits).softmax_cross_entropy_backward(logits, labels, reduction, dloss)

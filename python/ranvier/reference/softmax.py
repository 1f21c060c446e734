"""Softmax, log-softmax and softmax cross-entropy, plainly."""

from __future__ import annotations

import numpy as np

__all__ = [
    "softmax",
    "log_softmax",
    "softmax_backward",
    "log_softmax_backward",
    "softmax_cross_entropy",
    "softmax_cross_entropy_backward",
]


def log_softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)  # initial: an empty axis has no maximum
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(x, axis=-1):
    return np.exp(log_softmax(x, axis))


def softmax_backward(dy, y, axis=-1):
    return y * (dy - np.sum(dy * y, axis=axis, keepdims=True))


def log_softmax_backward(dy, y, axis=-1):
    return dy - np.exp(y) * np.sum(dy, axis=axis, keepdims=True)


def _targets(labels, logits):
    """Labels as (N, C) probabilities: one-hot rows for class indices."""
    if np.issubdtype(labels.dtype, np.integer):
        return np.eye(logits.shape[1], dtype=logits.dtype)[labels]
    return labels


def _reduce(losses, reduction):
    return {"none": lambda v: v, "mean": np.mean, "sum": np.sum}[reduction](losses)


def softmax_cross_entropy(logits, labels, reduction="mean"):
    log_p = log_softmax(logits)
    if np.issubdtype(labels.dtype, np.integer):  # picked, so a -inf logit elsewhere adds nothing (not 0 * -inf)
        losses = -log_p[np.arange(len(labels)), labels]
    else:
        losses = -np.sum(labels * log_p, axis=1)
    return _reduce(losses, reduction)


def softmax_cross_entropy_backward(logits, labels, reduction="mean", dloss=1.0):
    t = _targets(labels, logits)
    grad = softmax(logits) * t.sum(axis=1, keepdims=True) - t
    scale = np.broadcast_to(np.asarray(dloss, dtype=logits.dtype), (logits.shape[0],))
    if reduction == "mean":
        scale = scale / logits.shape[0]
    return grad * scale[:, None]

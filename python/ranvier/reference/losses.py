"""Mean squared error and binary cross-entropy, plainly: per-element loss,
mean over each sample's elements, then the reduction over samples."""

from __future__ import annotations

import numpy as np

from ranvier.reference.activation import sigmoid

__all__ = ["mse", "mse_backward", "binary_cross_entropy", "binary_cross_entropy_backward"]

EPSILON = 1e-7  # Keras' clip of probabilities


def _per_sample(elementwise, reduction):
    losses = elementwise.reshape(elementwise.shape[0], int(np.prod(elementwise.shape[1:]))).mean(
        axis=1
    )  # not -1: N may be 0
    return {"none": lambda v: v, "mean": np.mean, "sum": np.sum}[reduction](losses)


def _per_element_scale(pred, reduction, dloss):
    """dloss_i / D (/ N for mean), shaped to broadcast over pred."""
    n = pred.shape[0]
    scale = np.broadcast_to(np.asarray(dloss, dtype=pred.dtype), (n,)) / (pred.size // max(n, 1))
    if reduction == "mean":
        scale = scale / n
    return scale.reshape((n,) + (1,) * (pred.ndim - 1))


def mse(pred, target, reduction="mean"):
    return _per_sample((pred - target) ** 2, reduction)


def mse_backward(pred, target, reduction="mean", dloss=1.0):
    return 2 * (pred - target) * _per_element_scale(pred, reduction, dloss)


def _bce(pred, target, from_logits):
    if from_logits:
        return np.maximum(pred, 0) - pred * target + np.log1p(np.exp(-np.abs(pred)))
    p = np.clip(pred, EPSILON, 1 - EPSILON)
    q = np.clip(1 - pred, EPSILON, 1 - EPSILON)
    return -(target * np.log(p) + (1 - target) * np.log(q))


def binary_cross_entropy(pred, target, reduction="mean", from_logits=False):
    return _per_sample(_bce(pred, target, from_logits), reduction)


def binary_cross_entropy_backward(pred, target, reduction="mean", from_logits=False, dloss=1.0):
    if from_logits:
        grad = sigmoid(pred) - target
    else:
        clipped = (pred <= EPSILON) | (pred >= 1 - EPSILON)  # NaN is neither: its gradient stays NaN
        grad = np.where(clipped, 0, (pred - target) / (pred * (1 - pred)))
    return grad * _per_element_scale(pred, reduction, dloss)

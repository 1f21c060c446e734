"""Mean squared error and binary cross-entropy, and their backward.

pred and target (N, ...) have the same shape; the loss of sample i is the
mean over its elements (Keras' convention), and reduction "none" gives those
(N,) losses, "mean" their mean (= the mean over all elements) and "sum" their
sum, as 0-d arrays. The backward returns dL/dpred.
"""

from __future__ import annotations

from ranvier import backend

__all__ = ["mse", "mse_backward", "binary_cross_entropy", "binary_cross_entropy_backward"]


def mse(pred, target, reduction="mean"):
    """Mean squared error: loss_i = mean((pred_i - target_i)^2) over sample i's elements."""
    return backend.kernels(pred).mse(pred, target, reduction)


def mse_backward(pred, target, reduction="mean", dloss=1.0):
    """dpred = 2 (pred - target) / D * dloss_i (/ N for "mean"), D the elements per sample.

    dloss: a scalar for "mean" and "sum"; for "none" an (N,) float32 array or a scalar.
    """
    return backend.kernels(pred).mse_backward(pred, target, reduction, dloss)


def binary_cross_entropy(pred, target, reduction="mean", from_logits=False):
    """Binary cross-entropy, averaged over each sample's elements.

    from_logits=False: pred holds probabilities, clipped to [eps, 1 - eps]
    with eps = 1e-7 as Keras does, and bce = -(t log p + (1 - t) log(1 - p)).
    from_logits=True: pred holds logits x, and the stable form
    bce = max(x, 0) - x t + log1p(exp(-|x|)) is used (no overflow for any x).
    """
    return backend.kernels(pred).binary_cross_entropy(pred, target, reduction, bool(from_logits))


def binary_cross_entropy_backward(pred, target, reduction="mean", from_logits=False, dloss=1.0):
    """dpred of binary_cross_entropy, times dloss_i / D (/ N for "mean").

    From logits: sigmoid(x) - t. From probabilities: (p - t) / (p (1 - p))
    where eps < p < 1 - eps, and 0 where the clip holds p (as the clip's
    gradient is in Keras/TF). dloss as in mse_backward.
    """
    return backend.kernels(pred).binary_cross_entropy_backward(pred, target, reduction, bool(from_logits), dloss)

"""Softmax and the losses, on Tensors, through the fused kernels."""
from __future__ import annotations

import numpy as np

from ranvier import backend, ops
from ranvier.functional.arithmetic import as_tensor
from ranvier.tensor import Tensor, make_result


def softmax(x, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    y = ops.softmax(x.data, axis=axis)
    return make_result(y, (x,), lambda g: (ops.softmax_backward(g, y, axis=axis),))


def log_softmax(x, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    y = ops.log_softmax(x.data, axis=axis)
    return make_result(y, (x,), lambda g: (ops.log_softmax_backward(g, y, axis=axis),))


def _dloss(g, reduction):
    """The upstream gradient as the kernels take it: a float for mean/sum, an array for none."""
    if reduction == "none":
        return g
    return float(g.get() if backend.is_cupy(g) else g)


def softmax_cross_entropy(logits, labels, reduction: str = "mean") -> Tensor:
    """Cross-entropy of softmax(logits) (N, C) against int labels (N,) or probabilities (N, C)."""
    logits, labels = as_tensor(logits), as_tensor(labels)
    loss = ops.softmax_cross_entropy(logits.data, labels.data, reduction=reduction)

    def backward(g):
        return ops.softmax_cross_entropy_backward(logits.data, labels.data, reduction=reduction,
                                                  dloss=_dloss(g, reduction)), None

    return make_result(loss, (logits, labels), backward)


def mse(pred, target, reduction: str = "mean") -> Tensor:
    """Mean squared error per sample (mean over its elements), then reduced over the batch."""
    pred, target = as_tensor(pred), as_tensor(target, like=pred)
    loss = ops.mse(pred.data, target.data, reduction=reduction)

    def backward(g):
        dpred = ops.mse_backward(pred.data, target.data, reduction=reduction, dloss=_dloss(g, reduction))
        return dpred, -dpred  # symmetric in pred and target

    return make_result(loss, (pred, target), backward)


def binary_cross_entropy(pred, target, reduction: str = "mean", from_logits: bool = False) -> Tensor:
    """From probabilities (clipped to [1e-7, 1 - 1e-7], as Keras) or, stably, from logits."""
    pred, target = as_tensor(pred), as_tensor(target, like=pred)
    if target.dtype != np.float32:
        target = Tensor(target.data.astype(np.float32))
    loss = ops.binary_cross_entropy(pred.data, target.data, reduction=reduction, from_logits=from_logits)

    def backward(g):
        return ops.binary_cross_entropy_backward(pred.data, target.data, reduction=reduction, from_logits=from_logits,
                                                 dloss=_dloss(g, reduction)), None

    return make_result(loss, (pred, target), backward)

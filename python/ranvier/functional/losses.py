"""The losses on Tensors (mse, binary cross-entropy), through the fused kernels."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.device import to_host
from ranvier.functional.arithmetic import as_tensor
from ranvier.tensor import Tensor, make_result


def reduced_grad(g, reduction):
    """The upstream gradient as the kernels take it: a float for mean/sum, an array for none."""
    if reduction == "none":
        return g
    return float(to_host(g))


def mse(pred, target, reduction: str = "mean") -> Tensor:
    """Mean squared error per sample (mean over its elements), then reduced over the batch."""
    pred, target = as_tensor(pred), as_tensor(target, like=pred)
    loss = ops.mse(pred.data, target.data, reduction=reduction)

    def backward(g):
        dpred = ops.mse_backward(pred.data, target.data, reduction=reduction, dloss=reduced_grad(g, reduction))
        return dpred, -dpred  # symmetric in pred and target

    return make_result(loss, (pred, target), backward)


def binary_cross_entropy(pred, target, reduction: str = "mean", from_logits: bool = False) -> Tensor:
    """From probabilities (clipped to [1e-7, 1 - 1e-7], as Keras) or, stably, from logits."""
    pred, target = as_tensor(pred), as_tensor(target, like=pred)
    if target.dtype != np.float32:
        target = Tensor(target.data.astype(np.float32))
    loss = ops.binary_cross_entropy(pred.data, target.data, reduction=reduction, from_logits=from_logits)

    def backward(g):
        return ops.binary_cross_entropy_backward(
            pred.data, target.data, reduction=reduction, from_logits=from_logits, dloss=reduced_grad(g, reduction)
        ), None

    return make_result(loss, (pred, target), backward)

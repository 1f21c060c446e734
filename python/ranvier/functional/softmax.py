"""Softmax, log-softmax and the fused softmax cross-entropy on Tensors."""

from __future__ import annotations

from ranvier import ops
from ranvier.functional.arithmetic import as_tensor
from ranvier.functional.losses import reduced_grad
from ranvier.tensor import Tensor, make_result


def softmax(x, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    y = ops.softmax(x.data, axis=axis)
    return make_result(y, (x,), lambda g: (ops.softmax_backward(g, y, axis=axis),))


def log_softmax(x, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    y = ops.log_softmax(x.data, axis=axis)
    return make_result(y, (x,), lambda g: (ops.log_softmax_backward(g, y, axis=axis),))


def softmax_cross_entropy(logits, labels, reduction: str = "mean") -> Tensor:
    """Cross-entropy of softmax(logits) (N, C) against int labels (N,) or probabilities (N, C)."""
    logits, labels = as_tensor(logits), as_tensor(labels)
    loss = ops.softmax_cross_entropy(logits.data, labels.data, reduction=reduction)

    def backward(g):
        return ops.softmax_cross_entropy_backward(
            logits.data, labels.data, reduction=reduction, dloss=reduced_grad(g, reduction)
        ), None

    return make_result(loss, (logits, labels), backward)

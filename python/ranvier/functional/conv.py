"""Convolution on NHWC Tensors."""

from __future__ import annotations

from ranvier import ops
from ranvier.functional.arithmetic import as_tensor
from ranvier.ops.activation import SAVES_INPUT
from ranvier.tensor import Tensor, make_result, records_grad


def conv2d(x, w, b=None, stride=1, padding="valid", dilation=1, activation=None) -> Tensor:
    """act(conv(x, w) + b): x (N, H, W, C), w (KH, KW, C, K), b (K,) -> (N, HO, WO, K)."""
    x, w = as_tensor(x), as_tensor(w)
    parents = (x, w) if b is None else (x, w, as_tensor(b))
    bias = None if b is None else parents[2].data
    geometry = dict(stride=stride, padding=padding, dilation=dilation)
    if activation in SAVES_INPUT and records_grad(parents):  # the derivative needs the pre-activation (gelu, ...)
        z = ops.conv2d(x.data, w.data, bias, **geometry)
        y, saved = getattr(ops, activation)(z), {"z": z}
    else:
        y = ops.conv2d(x.data, w.data, bias, activation=activation, **geometry)
        saved = {"y": y}

    def backward(g):
        dx, dw, db = ops.conv2d_backward(g, x.data, w.data, activation=activation, **geometry, **saved)
        return (dx, dw) if b is None else (dx, dw, db)

    return make_result(y, parents, backward)

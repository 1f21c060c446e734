"""Convolutions on NHWC Tensors and (N, L, C) sequences."""

from __future__ import annotations

from ranvier import ops
from ranvier.functional.arithmetic import as_tensor
from ranvier.ops.activation import SAVES_INPUT
from ranvier.tensor import Tensor, make_result, records_grad


def _conv(forward, backward_op):
    def conv(x, w, b=None, stride=1, padding="valid", dilation=1, activation=None) -> Tensor:
        x, w = as_tensor(x), as_tensor(w)
        parents = (x, w) if b is None else (x, w, as_tensor(b))
        bias = None if b is None else parents[2].data
        # positional arguments: this runs once per layer call, where a kwargs dict costs as much as the checks
        if activation in SAVES_INPUT and records_grad(parents):  # the derivative needs the pre-activation
            z = forward(x.data, w.data, bias, stride, padding, dilation)
            y, saved = getattr(ops, activation)(z), {"z": z}
        else:
            y = forward(x.data, w.data, bias, stride, padding, dilation, activation)
            saved = {"y": y}

        def backward(g):
            # A data input (the first layer's) gets no dx: its GEMM and col2im are skipped.
            need_dx = x.requires_grad
            dx, dw, db = backward_op(g, x.data, w.data, stride, padding, dilation, activation, need_dx=need_dx, **saved)
            return (dx, dw) if b is None else (dx, dw, db)

        return make_result(y, parents, backward)

    conv.__name__ = forward.__name__
    conv.__doc__ = forward.__doc__.splitlines()[0]
    return conv


conv2d = _conv(ops.conv2d, ops.conv2d_backward)
conv1d = _conv(ops.conv1d, ops.conv1d_backward)


def conv2d_transpose(x, w, b=None, stride=1, padding="valid", output_padding=None, dilation=1) -> Tensor:
    """Transposed convolution: x (N, H, W, C), w (KH, KW, F, C), b (F,) -> (N, HO, WO, F)."""
    x, w = as_tensor(x), as_tensor(w)
    parents = (x, w) if b is None else (x, w, as_tensor(b))
    geometry = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
    y = ops.conv2d_transpose(x.data, w.data, None if b is None else parents[2].data, **geometry)

    def backward(g):
        dx, dw, db = ops.conv2d_transpose_backward(g, x.data, w.data, **geometry)
        return (dx, dw) if b is None else (dx, dw, db)

    return make_result(y, parents, backward)

"""Convolution and pooling on NHWC Tensors."""
from __future__ import annotations

from ranvier import ops
from ranvier.functional.arithmetic import as_tensor
from ranvier.tensor import Tensor, make_result


def conv2d(x, w, b=None, stride=1, padding="valid", dilation=1, activation=None) -> Tensor:
    """act(conv(x, w) + b): x (N, H, W, C), w (KH, KW, C, K), b (K,) -> (N, HO, WO, K)."""
    x, w = as_tensor(x), as_tensor(w)
    parents = (x, w) if b is None else (x, w, as_tensor(b))
    bias = None if b is None else parents[2].data
    geometry = dict(stride=stride, padding=padding, dilation=dilation)
    if activation == "gelu":  # gelu's derivative needs the pre-activation
        z = ops.conv2d(x.data, w.data, bias, **geometry)
        y, saved = ops.gelu(z), {"z": z}
    else:
        y = ops.conv2d(x.data, w.data, bias, activation=activation, **geometry)
        saved = {"y": y}

    def backward(g):
        dx, dw, db = ops.conv2d_backward(g, x.data, w.data, activation=activation, **geometry, **saved)
        return (dx, dw) if b is None else (dx, dw, db)

    return make_result(y, parents, backward)


def _pool(forward, backward_op):
    def pool(x, pool_size=2, stride=None, padding="valid") -> Tensor:
        x = as_tensor(x)
        args = dict(pool_size=pool_size, stride=stride, padding=padding)
        y = forward(x.data, **args)
        return make_result(y, (x,), lambda g: (backward_op(g, x.data, **args),))

    pool.__name__ = forward.__name__
    pool.__doc__ = f"{forward.__name__} over NHWC x (see ranvier.ops.{forward.__name__})"
    return pool


max_pool2d = _pool(ops.max_pool2d, ops.max_pool2d_backward)
avg_pool2d = _pool(ops.avg_pool2d, ops.avg_pool2d_backward)


def global_avg_pool2d(x) -> Tensor:
    """(N, H, W, C) -> (N, C): the mean over the spatial axes."""
    from ranvier.functional.arithmetic import mean

    return mean(as_tensor(x), axis=(1, 2))

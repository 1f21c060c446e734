"""Pooling on NHWC Tensors and (N, L, C) sequences."""

from __future__ import annotations

from ranvier import ops
from ranvier.functional.arithmetic import as_tensor, mean
from ranvier.tensor import Tensor, make_result


def _pool(forward, backward_op):
    def pool(x, pool_size=2, stride=None, padding="valid") -> Tensor:
        x = as_tensor(x)
        args = dict(pool_size=pool_size, stride=stride, padding=padding)
        y = forward(x.data, **args)
        return make_result(y, (x,), lambda g: (backward_op(g, x.data, **args),))

    pool.__name__ = forward.__name__
    pool.__doc__ = f"{forward.__name__} over x (see ranvier.ops.{forward.__name__})"
    return pool


max_pool2d = _pool(ops.max_pool2d, ops.max_pool2d_backward)
avg_pool2d = _pool(ops.avg_pool2d, ops.avg_pool2d_backward)
max_pool1d = _pool(ops.max_pool1d, ops.max_pool1d_backward)
avg_pool1d = _pool(ops.avg_pool1d, ops.avg_pool1d_backward)


def global_max_pool(x) -> Tensor:
    """(N, L, C) or (N, H, W, C) -> (N, C): each channel's maximum (the gradient to its first maximum)."""
    x = as_tensor(x)
    return make_result(ops.global_max_pool(x.data), (x,), lambda g: (ops.global_max_pool_backward(g, x.data),))


def global_avg_pool2d(x) -> Tensor:
    """(N, H, W, C) -> (N, C): the mean over the spatial axes."""
    return mean(as_tensor(x), axis=(1, 2))

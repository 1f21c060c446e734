"""Upsampling, zero padding and cropping on NHWC Tensors."""

from __future__ import annotations

from ranvier import ops
from ranvier.functional.arithmetic import as_tensor
from ranvier.tensor import Tensor, make_result


def upsample2d(x, size=2, interpolation="nearest") -> Tensor:
    """Nearest or bilinear upsampling of x (N, H, W, C) by (sh, sw) (see ranvier.ops.upsample2d)."""
    x = as_tensor(x)
    y = ops.upsample2d(x.data, size, interpolation)
    return make_result(y, (x,), lambda g: (ops.upsample2d_backward(g, x.data, size, interpolation),))


def pad2d(x, padding) -> Tensor:
    """Zeros around the H and W axes of x (N, H, W, C) (see ranvier.ops.pad2d)."""
    x = as_tensor(x)
    y = ops.pad2d(x.data, padding)
    return make_result(y, (x,), lambda g: (ops.pad2d_backward(g, x.data, padding),))


def crop2d(x, cropping) -> Tensor:
    """x (N, H, W, C) without its borders (see ranvier.ops.crop2d)."""
    x = as_tensor(x)
    y = ops.crop2d(x.data, cropping)
    return make_result(y, (x,), lambda g: (ops.crop2d_backward(g, x.data, cropping),))

"""2-D max and average pooling over NHWC images, and their backward.

``pool_size`` and ``stride`` are an int or an (h, w) pair; ``stride=None``
means ``pool_size``. ``padding`` follows Keras/TF: "valid" keeps only windows
inside the image; "same" gives ceil(size / stride) windows per axis, padding
the image evenly (the extra element at the end). Padding never takes part:
max ignores it, avg divides by the number of elements inside the image.
"""
from __future__ import annotations

import numbers

from ranvier import backend
from ranvier.ops import _checks

__all__ = ["max_pool2d", "avg_pool2d", "max_pool2d_backward", "avg_pool2d_backward"]

PADDINGS = ("valid", "same")


def _pair(op: str, name: str, value) -> tuple[int, int]:
    """An int or a pair of ints, both positive, as a pair."""
    def is_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    pair = (value, value) if is_int(value) else value
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(is_int(v) for v in pair)):
        raise TypeError(f"[{op}] {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < 1:
        raise ValueError(f"[{op}] {name} must be positive, got {value!r}")
    return int(pair[0]), int(pair[1])


def _geometry(op: str, image_shape, pool_size, stride, padding):
    """(pool, stride, pad, out): (h, w) pairs of the pooling of images (N, H, W, C)."""
    pool = _pair(op, "pool_size", pool_size)
    strides = pool if stride is None else _pair(op, "stride", stride)
    padding = padding.lower() if isinstance(padding, str) else padding  # Keras accepts "SAME"
    if padding not in PADDINGS:
        raise ValueError(f"[{op}] padding must be 'valid' or 'same', got {padding!r}")
    size = tuple(int(d) for d in image_shape[1:3])
    pad, out = [], []
    for k, s, n in zip(pool, strides, size):
        if padding == "valid":
            if n < k:
                raise ValueError(
                    f"[{op}] pool_size {pool} is larger than the image {size} with padding='valid'"
                )
            out.append((n - k) // s + 1)
            pad.append(0)
        else:
            o = -(-n // s)
            out.append(o)
            pad.append(max((o - 1) * s + k - n, 0) // 2)
    return pool, strides, tuple(pad), tuple(out)


def _images(op: str, name: str, x):
    return _checks.float32(op, name, x, layout="(N, H, W, C)", ndim=4)


def _forward(op: str, x, pool_size, stride, padding):
    x = _checks.contiguous(_images(op, "x", x))
    pool, strides, pad, out = _geometry(op, x.shape, pool_size, stride, padding)
    y = backend.empty(x, (x.shape[0],) + out + (x.shape[3],))
    getattr(backend.kernels(x), op)(y, x, pool, strides, pad)
    return y


def _backward_args(op: str, dy, x, pool_size, stride, padding):
    """dy (contiguous), x (as given) and the (pool, stride, pad) pairs, checked."""
    x = _images(op, "x", x)
    dy = _checks.contiguous(_images(op, "dy", dy))
    _checks.same_device(op, dy=dy, x=x)
    pool, strides, pad, out = _geometry(op, x.shape, pool_size, stride, padding)
    expected = (x.shape[0],) + out + (x.shape[3],)
    if tuple(dy.shape) != expected:
        raise ValueError(f"[{op}] dy must be {expected} float32 to match x and the pooling, got {_checks.describe(dy)}")
    return dy, x, (pool, strides, pad)


def max_pool2d(x, pool_size=2, stride=None, padding="valid"):
    """Maximum of each window: x (N, H, W, C) -> (N, HO, WO, C)."""
    return _forward("max_pool2d", x, pool_size, stride, padding)


def avg_pool2d(x, pool_size=2, stride=None, padding="valid"):
    """Mean of each window over its elements inside the image: x (N, H, W, C) -> (N, HO, WO, C)."""
    return _forward("avg_pool2d", x, pool_size, stride, padding)


def max_pool2d_backward(dy, x, pool_size=2, stride=None, padding="valid"):
    """dx (N, H, W, C): each dy (N, HO, WO, C) goes to the maximum of its window in x.

    On ties, to the first maximum in row-major window order; overlapping
    windows add up. Deterministic: the same result for any thread count.
    """
    op = "max_pool2d_backward"
    dy, x, geometry = _backward_args(op, dy, x, pool_size, stride, padding)
    x = _checks.contiguous(x)
    dx = backend.empty(x, x.shape)
    backend.kernels(x).max_pool2d_backward(dx, dy, x, *geometry)
    return dx


def avg_pool2d_backward(dy, x, pool_size=2, stride=None, padding="valid"):
    """dx (N, H, W, C): each dy (N, HO, WO, C) spread evenly over its window.

    Only the shape of x (the forward input) is used.
    """
    op = "avg_pool2d_backward"
    dy, x, geometry = _backward_args(op, dy, x, pool_size, stride, padding)
    dx = backend.empty(dy, tuple(x.shape))
    backend.kernels(dy).avg_pool2d_backward(dx, dy, *geometry)
    return dx

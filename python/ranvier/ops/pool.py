"""Max and average pooling over NHWC images and (N, L, C) sequences, global
max pooling, and their backward.

``pool_size`` and ``stride`` are an int or an (h, w) pair; ``stride=None``
means ``pool_size``. ``padding`` follows Keras/TF: "valid" keeps only windows
inside the image; "same" gives ceil(size / stride) windows per axis, padding
the image evenly (the extra element at the end). Padding never takes part:
max ignores it, avg divides by the number of elements inside the image.
The arguments are checked by the compiled modules (cpp/args/pool.h).
"""

from __future__ import annotations

from ranvier import backend

__all__ = [
    "avg_pool1d",
    "avg_pool1d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "global_max_pool",
    "global_max_pool_backward",
    "max_pool1d",
    "max_pool1d_backward",
    "max_pool2d",
    "max_pool2d_backward",
]


def max_pool2d(x, pool_size=2, stride=None, padding="valid"):
    """Maximum of each window: x (N, H, W, C) -> (N, HO, WO, C)."""
    return backend.kernels(x).max_pool2d(x, pool_size, stride, padding)


def avg_pool2d(x, pool_size=2, stride=None, padding="valid"):
    """Mean of each window over its elements inside the image: x (N, H, W, C) -> (N, HO, WO, C)."""
    return backend.kernels(x).avg_pool2d(x, pool_size, stride, padding)


def max_pool2d_backward(dy, x, pool_size=2, stride=None, padding="valid"):
    """dx (N, H, W, C): each dy (N, HO, WO, C) goes to the maximum of its window in x.

    On ties, to the first maximum in row-major window order; overlapping
    windows add up. Deterministic: the same result for any thread count.
    """
    return backend.kernels(x).max_pool2d_backward(dy, x, pool_size, stride, padding)


def avg_pool2d_backward(dy, x, pool_size=2, stride=None, padding="valid"):
    """dx (N, H, W, C): each dy (N, HO, WO, C) spread evenly over its window.

    Only the shape of x (the forward input) is used.
    """
    return backend.kernels(dy).avg_pool2d_backward(dy, x, pool_size, stride, padding)


def max_pool1d(x, pool_size=2, stride=None, padding="valid"):
    """Maximum of each window: x (N, L, C) -> (N, LO, C); the 2-D kernels with H = 1."""
    return backend.kernels(x).max_pool1d(x, pool_size, stride, padding)


def avg_pool1d(x, pool_size=2, stride=None, padding="valid"):
    """Mean of each window over its elements inside the sequence: x (N, L, C) -> (N, LO, C)."""
    return backend.kernels(x).avg_pool1d(x, pool_size, stride, padding)


def max_pool1d_backward(dy, x, pool_size=2, stride=None, padding="valid"):
    """dx (N, L, C): each dy to the first maximum of its window in x."""
    return backend.kernels(x).max_pool1d_backward(dy, x, pool_size, stride, padding)


def avg_pool1d_backward(dy, x, pool_size=2, stride=None, padding="valid"):
    """dx (N, L, C): each dy spread evenly over its window."""
    return backend.kernels(dy).avg_pool1d_backward(dy, x, pool_size, stride, padding)


def global_max_pool(x):
    """x (N, L, C) or (N, H, W, C) -> (N, C): each channel's maximum; NaN if any element is NaN."""
    return backend.kernels(x).global_max_pool(x)


def global_max_pool_backward(dy, x):
    """dx (the shape of x): each dy (N, C) to its channel's first maximum (the first NaN if any)."""
    return backend.kernels(x).global_max_pool_backward(dy, x)

"""Nearest upsampling, zero padding and cropping of NHWC images, and their backward.

``size`` is an int or an (sh, sw) pair of factors; ``interpolation`` is
"nearest" or "bilinear": Keras 3's UpSampling2D, whose resize without
antialiasing is, when upsampling, PyTorch's bilinear with align_corners=False
(source coordinate (o + 0.5) / s - 0.5, clamped at the edges). ``padding`` and ``cropping`` are an int, an
(h, w) pair or ((top, bottom), (left, right)) (Keras' forms). Padding and
cropping are one kernel, and each is the other's backward. The arguments are
checked by the compiled modules (cpp/args/spatial.h).
"""

from __future__ import annotations

from ranvier import backend

__all__ = [
    "upsample2d",
    "upsample2d_backward",
    "pad2d",
    "pad2d_backward",
    "crop2d",
    "crop2d_backward",
]


def upsample2d(x, size=2, interpolation="nearest"):
    """x (N, H, W, C) -> y (N, H * sh, W * sw, C): nearest y[n, i, j] = x[n, i // sh, j // sw], or bilinear.

    A bilinear tap of weight 0 (at the clamped edges) is not read, so a NaN there stays out.
    """
    return backend.kernels(x).upsample2d(x, size, interpolation)


def upsample2d_backward(dy, x, size=2, interpolation="nearest"):
    """dx (N, H, W, C): each dy (N, H * sh, W * sw, C) added to the pixels it came from (nearest: the sum
    of each sh x sw block; bilinear: weighted as in the forward).

    Only the shape of x (the forward input) is used.
    """
    return backend.kernels(dy).upsample2d_backward(dy, x, size, interpolation)


def pad2d(x, padding):
    """x (N, H, W, C) -> y (N, top + H + bottom, left + W + right, C), zeros around x."""
    return backend.kernels(x).pad2d(x, padding)


def pad2d_backward(dy, x, padding):
    """dx (N, H, W, C): dy cropped back to x's place. Only the shape of x is used."""
    return backend.kernels(dy).pad2d_backward(dy, x, padding)


def crop2d(x, cropping):
    """x (N, H, W, C) -> y (N, H - top - bottom, W - left - right, C); the cropping may take all of x."""
    return backend.kernels(x).crop2d(x, cropping)


def crop2d_backward(dy, x, cropping):
    """dx (N, H, W, C): dy in its place in x, zeros where x was cropped. Only the shape of x is used."""
    return backend.kernels(dy).crop2d_backward(dy, x, cropping)

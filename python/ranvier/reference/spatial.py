"""Upsampling, zero padding and cropping of NHWC images, plainly."""

from __future__ import annotations

import numpy as np

__all__ = [
    "upsample2d",
    "upsample2d_backward",
    "pad2d",
    "pad2d_backward",
    "crop2d",
    "crop2d_backward",
]


def _pair(v):
    return (v, v) if np.ndim(v) == 0 else tuple(v)


def _edges(v):
    """((top, bottom), (left, right)) from an int, (h, w) or ((top, bottom), (left, right))."""
    h, w = _pair(v)
    return _pair(h), _pair(w)


def upsample2d(x, size=2, interpolation="nearest"):
    """Each pixel repeated over an sh x sw block ("nearest" is the only interpolation)."""
    sh, sw = _pair(size)
    return x.repeat(sh, axis=1).repeat(sw, axis=2)


def upsample2d_backward(dy, x, size=2, interpolation="nearest"):
    """Each dx pixel: the sum of its sh x sw block of dy."""
    (sh, sw), (n, h, w, c) = _pair(size), x.shape
    return dy.reshape(n, h, sh, w, sw, c).sum(axis=(2, 4))


def pad2d(x, padding):
    (top, bottom), (left, right) = _edges(padding)
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))


def pad2d_backward(dy, x, padding):
    (top, _), (left, _) = _edges(padding)
    return dy[:, top : top + x.shape[1], left : left + x.shape[2], :].copy()


def crop2d(x, cropping):
    (top, bottom), (left, right) = _edges(cropping)
    return x[:, top : x.shape[1] - bottom, left : x.shape[2] - right, :].copy()


def crop2d_backward(dy, x, cropping):
    (top, bottom), (left, right) = _edges(cropping)
    return np.pad(dy, ((0, 0), (top, bottom), (left, right), (0, 0)))

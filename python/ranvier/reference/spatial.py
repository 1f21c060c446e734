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


def _taps(n_in, size):
    """Along one axis of a bilinear upsampling: for each output o, the input taps i0, i1 and weights
    w0, w1 (out[o] = w0 * x[i0] + w1 * x[i1]; w1 == 0 means x[i1] is not read). The source
    coordinate is (o + 0.5) / size - 0.5 clamped at 0 (PyTorch's align_corners=False, Keras 3's
    resize when upsampling), i1 = i0 at the last element."""
    src = np.maximum((np.arange(n_in * size) + 0.5) / size - 0.5, 0.0)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w1 = (src - i0).astype(np.float32).astype(np.float64)  # the kernels' weights are float32
    return i0, i1, 1.0 - w1, w1


def _interpolate(x, axis, size):
    """Bilinear upsampling of x along one axis."""
    i0, i1, w0, w1 = _taps(x.shape[axis], size)
    shape = [1] * x.ndim
    shape[axis] = -1
    w0, w1 = w0.reshape(shape), w1.reshape(shape)
    a, b = np.take(x, i0, axis=axis), np.take(x, i1, axis=axis)
    return np.where(w1 == 0, a, w0 * a + w1 * b)


def _interpolate_backward(dy, axis, n_in, size):
    """The transpose of _interpolate: each dy added to its taps by their weights (zero weights skipped)."""
    i0, i1, w0, w1 = _taps(n_in, size)
    dx = np.zeros(dy.shape[:axis] + (n_in,) + dy.shape[axis + 1 :], dy.dtype)
    d = np.moveaxis(dy, axis, 0)
    target = np.moveaxis(dx, axis, 0)  # a view: adding into it fills dx
    for o in range(len(i0)):
        target[i0[o]] += w0[o] * d[o]
        if w1[o] != 0:
            target[i1[o]] += w1[o] * d[o]
    return dx


def upsample2d(x, size=2, interpolation="nearest"):
    """ "nearest": each pixel repeated over an sh x sw block. "bilinear": interpolated along W,
    then along H, with the taps of _taps."""
    sh, sw = _pair(size)
    if interpolation == "bilinear":
        return _interpolate(_interpolate(x, 2, sw), 1, sh)
    return x.repeat(sh, axis=1).repeat(sw, axis=2)


def upsample2d_backward(dy, x, size=2, interpolation="nearest"):
    """ "nearest": each dx pixel is the sum of its sh x sw block of dy. "bilinear": the transpose."""
    (sh, sw), (n, h, w, c) = _pair(size), x.shape
    if interpolation == "bilinear":
        return _interpolate_backward(_interpolate_backward(dy, 1, h, sh), 2, w, sw)
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

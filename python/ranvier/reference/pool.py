"""Pooling, plainly: one window at a time, clipped to the image (1-D: an
image of height 1); global max pooling as NumPy's max and argmax."""

from __future__ import annotations

import numpy as np

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


def _pair(v):
    return (v, v) if np.ndim(v) == 0 else tuple(v)


def _windows(shape, pool_size, stride, padding):
    """(out_h, out_w) and, for each output pixel, (oh, ow, rows, cols): the
    slices of its window inside the image."""
    (kh, kw), (h, w) = _pair(pool_size), shape[1:3]
    sh, sw = _pair(pool_size if stride is None else stride)
    if padding == "valid":
        out_h, out_w, top, left = (h - kh) // sh + 1, (w - kw) // sw + 1, 0, 0
    else:  # "same": ceil(size / stride) windows, padding split evenly, the extra at the end
        out_h, out_w = -(-h // sh), -(-w // sw)
        top = max((out_h - 1) * sh + kh - h, 0) // 2
        left = max((out_w - 1) * sw + kw - w, 0) // 2
    windows = []
    for oh in range(out_h):
        for ow in range(out_w):
            r0, c0 = oh * sh - top, ow * sw - left
            windows.append((oh, ow, slice(max(r0, 0), min(r0 + kh, h)), slice(max(c0, 0), min(c0 + kw, w))))
    return (out_h, out_w), windows


def _pool(x, pool_size, stride, padding, reduce):
    out, windows = _windows(x.shape, pool_size, stride, padding)
    y = np.zeros((x.shape[0],) + out + (x.shape[3],), dtype=x.dtype)
    for oh, ow, rows, cols in windows:
        y[:, oh, ow, :] = reduce(x[:, rows, cols, :], axis=(1, 2))
    return y


def max_pool2d(x, pool_size=2, stride=None, padding="valid"):
    return _pool(x, pool_size, stride, padding, np.max)


def avg_pool2d(x, pool_size=2, stride=None, padding="valid"):
    return _pool(x, pool_size, stride, padding, np.mean)


def max_pool2d_backward(dy, x, pool_size=2, stride=None, padding="valid"):
    """Each dy to its window's first maximum in row-major order (np.argmax's tie rule)."""
    dx = np.zeros_like(x, dtype=dy.dtype)
    n, c = np.arange(x.shape[0])[:, None], np.arange(x.shape[3])[None, :]
    for oh, ow, rows, cols in _windows(x.shape, pool_size, stride, padding)[1]:
        win = x[:, rows, cols, :]
        first = np.argmax(win.reshape(x.shape[0], win.shape[1] * win.shape[2], x.shape[3]), axis=1)  # (N, C)
        r, q = np.divmod(first, win.shape[2])
        dx[n, rows.start + r, cols.start + q, c] += dy[:, oh, ow, :]
    return dx


def avg_pool2d_backward(dy, x, pool_size=2, stride=None, padding="valid"):
    dx = np.zeros(x.shape, dtype=dy.dtype)
    for oh, ow, rows, cols in _windows(x.shape, pool_size, stride, padding)[1]:
        count = (rows.stop - rows.start) * (cols.stop - cols.start)
        dx[:, rows, cols, :] += dy[:, oh, ow, None, None, :] / count
    return dx


def _as_2d(pool_size, stride):
    return (1, pool_size), None if stride is None else (1, stride)


def max_pool1d(x, pool_size=2, stride=None, padding="valid"):
    """x (N, L, C) -> (N, LO, C)."""
    return max_pool2d(x[:, None], *_as_2d(pool_size, stride), padding)[:, 0]


def avg_pool1d(x, pool_size=2, stride=None, padding="valid"):
    return avg_pool2d(x[:, None], *_as_2d(pool_size, stride), padding)[:, 0]


def max_pool1d_backward(dy, x, pool_size=2, stride=None, padding="valid"):
    return max_pool2d_backward(dy[:, None], x[:, None], *_as_2d(pool_size, stride), padding)[:, 0]


def avg_pool1d_backward(dy, x, pool_size=2, stride=None, padding="valid"):
    return avg_pool2d_backward(dy[:, None], x[:, None], *_as_2d(pool_size, stride), padding)[:, 0]


def _positions(x):
    """x (N, ..., C) as (N, positions, C)."""
    return x.reshape(x.shape[0], int(np.prod(x.shape[1:-1])), x.shape[-1])


def global_max_pool(x):
    """x (N, L, C) or (N, H, W, C) -> (N, C): the maximum over the positions (NaN if any is NaN)."""
    return _positions(x).max(axis=1)


def global_max_pool_backward(dy, x):
    """Each dy (N, C) to its channel's first maximum (np.argmax: the first NaN if there is one)."""
    flat = _positions(x)
    dx = np.zeros(flat.shape, dtype=dy.dtype)
    first = np.argmax(flat, axis=1)  # (N, C)
    n, c = np.arange(flat.shape[0])[:, None], np.arange(flat.shape[2])[None, :]
    dx[n, first, c] = dy
    return dx.reshape(x.shape)

"""Convolutions, plainly: one einsum per kernel tap over a zero-padded input;
the transposed convolution as a scatter loop over input pixels and taps.

x (N, H, W, C), w (KH, KW, C, K). Padding as in Keras/TensorFlow: "valid",
"same" (out = ceil(in / stride), the odd pad on the bottom/right), an int, a
pair (ph, pw) or ((top, bottom), (left, right)). conv1d is conv2d with H = 1
and adds "causal" padding.
"""

from __future__ import annotations

import numpy as np

from ranvier.reference import activation as _act

__all__ = [
    "conv1d",
    "conv1d_backward",
    "conv2d",
    "conv2d_backward",
    "conv2d_transpose",
    "conv2d_transpose_backward",
]


def _pair(v):
    return (v, v) if np.ndim(v) == 0 else tuple(v)


def _pads(padding, size, span, stride):
    """((top, bottom), (left, right))."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        pads = []
        for n, k, s in zip(size, span, stride):
            out = -(-n // s)
            total = max((out - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    if np.ndim(padding) == 0:
        return (padding, padding), (padding, padding)
    if np.ndim(padding) == 1:
        return (padding[0], padding[0]), (padding[1], padding[1])
    return tuple(map(tuple, padding))


def _taps(x, w, stride, padding, dilation):
    """Zero-padded x, the pads, and for each kernel tap (i, j) the slices of the
    padded input it reads at every output position."""
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    kh, kw = w.shape[:2]
    span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    pads = _pads(padding, x.shape[1:3], span, (sh, sw))
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    ho = (xp.shape[1] - span[0]) // sh + 1
    wo = (xp.shape[2] - span[1]) // sw + 1
    taps = {
        (i, j): (
            slice(None),
            slice(i * dh, i * dh + (ho - 1) * sh + 1, sh),
            slice(j * dw, j * dw + (wo - 1) * sw + 1, sw),
        )
        for i in range(kh)
        for j in range(kw)
    }
    return xp, pads, taps


def _pre_activation(x, w, b, stride, padding, dilation):
    xp, _, taps = _taps(x, w, stride, padding, dilation)
    z = sum(np.einsum("nhwc,ck->nhwk", xp[s], w[i, j]) for (i, j), s in taps.items())
    return z if b is None else z + b


def conv2d(x, w, b=None, stride=1, padding="valid", dilation=1, activation=None):
    return _act.FORWARD[activation or "none"](_pre_activation(x, w, b, stride, padding, dilation))


def conv2d_backward(dy, x, w, stride=1, padding="valid", dilation=1, activation=None, y=None, z=None):
    """(dx, dw, db) of conv2d; y is the forward output, z the pre-activation."""
    dz = _act.backward(activation, dy, y, z)
    xp, pads, taps = _taps(x, w, stride, padding, dilation)
    dxp = np.zeros_like(xp, dtype=np.result_type(dz, w))
    dw = np.zeros(w.shape, dtype=np.result_type(x, dz))
    for (i, j), s in taps.items():
        dxp[s] += np.einsum("nhwk,ck->nhwc", dz, w[i, j])
        dw[i, j] = np.einsum("nhwc,nhwk->ck", xp[s], dz)
    h, wd = x.shape[1:3]
    dx = dxp[:, pads[0][0] : pads[0][0] + h, pads[1][0] : pads[1][0] + wd]
    return dx, dw, dz.sum(axis=(0, 1, 2))


def _padding_1d(padding, kernel, dilation):
    """conv1d's padding as conv2d's: "causal" is (dilation * (k - 1), 0) on the length axis."""
    if padding == "causal":
        return ((0, 0), ((kernel - 1) * dilation, 0))
    if isinstance(padding, str):
        return padding
    left, right = (padding, padding) if np.ndim(padding) == 0 else padding
    return ((0, 0), (left, right))


def conv1d(x, w, b=None, stride=1, padding="valid", dilation=1, activation=None):
    """x (N, L, C), w (KW, C, K) -> (N, LO, K): conv2d over (N, 1, L, C)."""
    pads = _padding_1d(padding, w.shape[0], dilation)
    return conv2d(x[:, None], w[None], b, (1, stride), pads, (1, dilation), activation)[:, 0]


def conv1d_backward(dy, x, w, stride=1, padding="valid", dilation=1, activation=None, y=None, z=None):
    pads = _padding_1d(padding, w.shape[0], dilation)
    saved = {k: None if v is None else v[:, None] for k, v in (("y", y), ("z", z))}
    dx, dw, db = conv2d_backward(
        dy[:, None], x[:, None], w[None], (1, stride), pads, (1, dilation), activation, **saved
    )
    return dx[:, 0], dw[0], db


def _transpose_axis(size, kernel, stride, dilation, padding, output_padding):
    """(output length, conv pad before): Keras 3's sizes. Keras pads the
    stride-dilated input with (left, right) and convolves with the flipped
    kernel; input i, tap t then land on output i * stride + t * dilation - before,
    with before = span - 1 - left."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        left, right = span - 1, span - 1 + extra
    else:
        total = stride + span - 2 if output_padding is None else span + span % 2 - 2 + output_padding
        left = min(total // 2 + total % 2, span - 1)
        right = total - left
    return (size - 1) * stride + 2 - span + left + right, span - 1 - left


def _transpose_geometry(x, w, stride, padding, output_padding, dilation):
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    op = (None, None) if output_padding is None else _pair(output_padding)
    rows = _transpose_axis(x.shape[1], w.shape[0], sh, dh, padding, op[0])
    cols = _transpose_axis(x.shape[2], w.shape[1], sw, dw, padding, op[1])
    return rows, cols, (sh, sw), (dh, dw)


def _transpose_taps(x, w, stride, padding, output_padding, dilation):
    """(out_h, out_w) and, for every input pixel (i, j) and tap (a, c) that lands
    inside the output, (i, j, a, c, oh, ow)."""
    (out_h, top), (out_w, left), (sh, sw), (dh, dw) = _transpose_geometry(
        x, w, stride, padding, output_padding, dilation
    )
    taps = []
    for i in range(x.shape[1]):
        for j in range(x.shape[2]):
            for a in range(w.shape[0]):
                for c in range(w.shape[1]):
                    oh, ow = i * sh + a * dh - top, j * sw + c * dw - left
                    if 0 <= oh < out_h and 0 <= ow < out_w:
                        taps.append((i, j, a, c, oh, ow))
    return (out_h, out_w), taps


def conv2d_transpose(x, w, b=None, stride=1, padding="valid", output_padding=None, dilation=1):
    """x (N, H, W, C), w (KH, KW, F, C) (Keras' Conv2DTranspose layout) -> (N, HO, WO, F):
    every input pixel adds x[n, i, j] @ w[a, c].T at output (i*sh + a*dh - top, j*sw + c*dw - left)."""
    (out_h, out_w), taps = _transpose_taps(x, w, stride, padding, output_padding, dilation)
    y = np.zeros((x.shape[0], out_h, out_w, w.shape[2]), dtype=np.result_type(x, w))
    for i, j, a, c, oh, ow in taps:
        y[:, oh, ow] += x[:, i, j] @ w[a, c].T
    return y if b is None else y + b


def conv2d_transpose_backward(dy, x, w, stride=1, padding="valid", output_padding=None, dilation=1):
    """(dx, dw, db) of conv2d_transpose from dy (N, HO, WO, F)."""
    _, taps = _transpose_taps(x, w, stride, padding, output_padding, dilation)
    dx = np.zeros(x.shape, dtype=np.result_type(dy, w))
    dw = np.zeros(w.shape, dtype=np.result_type(dy, x))
    for i, j, a, c, oh, ow in taps:
        dx[:, i, j] += dy[:, oh, ow] @ w[a, c]
        dw[a, c] += dy[:, oh, ow].T @ x[:, i, j]
    return dx, dw, dy.sum(axis=(0, 1, 2))

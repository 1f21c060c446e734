"""2-D convolution, plainly: one einsum per kernel tap over a zero-padded input.

x (N, H, W, C), w (KH, KW, C, K). Padding as in Keras/TensorFlow: "valid",
"same" (out = ceil(in / stride), the odd pad on the bottom/right), an int, a
pair (ph, pw) or ((top, bottom), (left, right)).
"""

from __future__ import annotations

import numpy as np

from ranvier.reference import activation as _act

__all__ = ["conv2d", "conv2d_backward"]


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

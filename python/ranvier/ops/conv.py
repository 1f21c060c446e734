"""2-D convolution: images NHWC, kernels HWIO (kh, kw, in, out).

Padding follows Keras/TensorFlow: "valid" (none), "same" (output size
ceil(in / stride); total padding max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0),
the odd one on the bottom/right), or explicit: an int, a pair (ph, pw), or
((top, bottom), (left, right)).
"""
from __future__ import annotations

import numpy as np

from ranvier import backend
from ranvier.ops import _checks

__all__ = ["conv2d", "conv2d_backward"]


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _pair(op: str, name: str, v, minimum: int):
    """An int or a pair of ints -> (along H, along W), each >= minimum."""
    pair = (v, v) if _is_int(v) else v
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(_is_int(t) for t in pair)):
        raise TypeError(f"[{op}] {name} must be an int or a pair of ints, got {v!r}")
    if min(pair) < minimum:
        raise ValueError(f"[{op}] {name} must be >= {minimum}, got {v!r}")
    return int(pair[0]), int(pair[1])


def _same_padding(size: int, span: int, stride: int):
    """(before, after) for "same" along one axis; span is the dilated kernel size."""
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def _padding(op: str, padding, size, span, stride):
    """(top, bottom, left, right) from the padding argument."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return 0, 0, 0, 0
        if mode == "same":
            return _same_padding(size[0], span[0], stride[0]) + _same_padding(size[1], span[1], stride[1])
        raise ValueError(f"[{op}] padding must be 'valid', 'same', an int or pairs of ints, got {padding!r}")
    bad = (f"[{op}] padding must be 'valid', 'same', an int, a pair (ph, pw) or "
           f"((top, bottom), (left, right)) of ints >= 0, got {padding!r}")
    if _is_int(padding):
        pads = (padding,) * 4
    elif isinstance(padding, (tuple, list)) and len(padding) == 2 and all(_is_int(p) for p in padding):
        pads = (padding[0], padding[0], padding[1], padding[1])
    elif (isinstance(padding, (tuple, list)) and len(padding) == 2
          and all(isinstance(p, (tuple, list)) and len(p) == 2 and all(_is_int(t) for t in p) for p in padding)):
        pads = tuple(padding[0]) + tuple(padding[1])
    else:
        raise (ValueError if isinstance(padding, (tuple, list)) else TypeError)(bad)
    if min(pads) < 0:
        raise ValueError(bad)
    return tuple(int(p) for p in pads)


def _conv_args(op: str, x, w, b, stride, padding, dilation):
    """Checked arrays and (stride, dilation, pads, output shape)."""
    x = _checks.float32(op, "x", x, layout="(N, H, W, C)", ndim=4)
    w = _checks.float32(op, "w", w, layout="(KH, KW, C, K)", ndim=4)
    if b is not None:
        b = _checks.contiguous(_checks.float32(op, "b", b, layout="(K,)", ndim=1))
    _checks.same_device(op, x=x, w=w, b=b)
    n, h, wd, c = (int(d) for d in x.shape)
    kh, kw, cin, k = (int(d) for d in w.shape)
    if kh < 1 or kw < 1:
        raise ValueError(f"[{op}] w must have a kernel of at least 1x1, got {_checks.describe(w)}")
    if c != cin:
        raise ValueError(f"[{op}] x has C={c} channels but w is {tuple(w.shape)} (expects C={cin})")
    if b is not None and tuple(b.shape) != (k,):
        raise ValueError(f"[{op}] b must be ({k},) to match w {tuple(w.shape)}, got {tuple(b.shape)}")
    stride = _pair(op, "stride", stride, 1)
    dilation = _pair(op, "dilation", dilation, 1)
    span = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    pads = _padding(op, padding, (h, wd), span, stride)
    padded = (h + pads[0] + pads[1], wd + pads[2] + pads[3])
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(
            f"[{op}] the kernel ({kh}, {kw}) with dilation {dilation} spans {span}, larger than the "
            f"padded input {padded} (input ({h}, {wd}), padding {pads})"
        )
    out_shape = (n, (padded[0] - span[0]) // stride[0] + 1, (padded[1] - span[1]) // stride[1] + 1, k)
    return _checks.contiguous(x), _checks.contiguous(w), b, (stride, dilation, pads, out_shape)


def conv2d(x, w, b=None, stride=1, padding="valid", dilation=1, activation=None):
    """act(conv(x, w) + b): x (N, H, W, C), w (KH, KW, C, K), b (K,) -> (N, HO, WO, K).

    y[n, p, q, k] = sum_{i, j, c} x_pad[n, p*sh + i*dh, q*sw + j*dw, c] * w[i, j, c, k] + b[k]
    (a cross-correlation, as in Keras and PyTorch). stride and dilation are an
    int or a pair (h, w). Bias and activation (None, relu, sigmoid, tanh, gelu)
    are fused into the GEMM's store.
    """
    op = "conv2d"
    act = _checks.activation(op, activation)
    x, w, b, (stride, dilation, pads, out_shape) = _conv_args(op, x, w, b, stride, padding, dilation)
    y = backend.empty(x, out_shape)
    backend.kernels(x).conv2d(y, x, w, b, stride, dilation, pads, act)
    return y


def conv2d_backward(dy, x, w, stride=1, padding="valid", dilation=1, activation=None, y=None, z=None):
    """Gradients of ``conv2d``: returns (dx, dw, db).

    dy (N, HO, WO, K) is dL/d(output). With an activation, pass what its
    derivative needs: the forward output ``y`` for relu, sigmoid and tanh, or
    the pre-activation ``z = conv(x, w) + b`` for gelu.
    """
    op = "conv2d_backward"
    act = _checks.activation(op, activation)
    x, w, _, (stride, dilation, pads, out_shape) = _conv_args(op, x, w, None, stride, padding, dilation)
    dy = _checks.float32(op, "dy", dy)
    if tuple(dy.shape) != out_shape:
        raise ValueError(f"[{op}] dy must be {out_shape} float32 to match x, w and the padding, got {_checks.describe(dy)}")
    saved = _checks.saved_for_backward(op, act, y, z, out_shape)
    _checks.same_device(op, x=x, dy=dy, saved=saved)
    dx = backend.empty(x, x.shape)
    dw = backend.empty(x, w.shape)
    db = backend.empty(x, (w.shape[3],))
    backend.kernels(x).conv2d_backward(dx, dw, db, _checks.contiguous(dy), saved, x, w, stride, dilation, pads, act)
    return dx, dw, db

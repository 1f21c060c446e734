"""Convolutions: images NHWC, kernels HWIO (kh, kw, in, out); sequences (N, L, C)
with kernels (k, in, out); the transposed convolution with Keras' (kh, kw, out, in).

Padding follows Keras/TensorFlow: "valid" (none), "same" (output size
ceil(in / stride); total padding max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0),
the odd one on the bottom/right), or explicit: an int, a pair (ph, pw), or
((top, bottom), (left, right)). The arguments are checked by the compiled
modules (cpp/args/conv.h).
"""

from __future__ import annotations

from ranvier import backend

__all__ = [
    "conv1d",
    "conv1d_backward",
    "conv2d",
    "conv2d_backward",
    "conv2d_transpose",
    "conv2d_transpose_backward",
]


def conv2d(x, w, b=None, stride=1, padding="valid", dilation=1, activation=None):
    """act(conv(x, w) + b): x (N, H, W, C), w (KH, KW, C, K), b (K,) -> (N, HO, WO, K).

    y[n, p, q, k] = sum_{i, j, c} x_pad[n, p*sh + i*dh, q*sw + j*dw, c] * w[i, j, c, k] + b[k]
    (a cross-correlation, as in Keras and PyTorch). stride and dilation are an
    int or a pair (h, w). Bias and activation (None or a name of ranvier.activations.FUSED)
    are fused into the GEMM's store.
    """
    return backend.kernels(x).conv2d(x, w, b, stride, padding, dilation, activation)


def conv2d_backward(dy, x, w, stride=1, padding="valid", dilation=1, activation=None, y=None, z=None, need_dx=True):
    """Gradients of ``conv2d``: returns (dx, dw, db).

    dy (N, HO, WO, K) is dL/d(output). With an activation, pass what its
    derivative needs: the pre-activation ``z = conv(x, w) + b`` for those of
    ``ops.activation.SAVES_INPUT`` (gelu, silu, softplus, softsign), else the forward output ``y``.
    ``need_dx=False`` skips the input gradient's GEMM and col2im (x is data): dx is None.
    """
    return backend.kernels(x).conv2d_backward(dy, x, w, stride, padding, dilation, activation, y, z, need_dx)


def conv1d(x, w, b=None, stride=1, padding="valid", dilation=1, activation=None):
    """act(conv(x, w) + b): x (N, L, C), w (KW, C, K), b (K,) -> (N, LO, K).

    conv2d's kernels on (N, 1, L, C) (the same memory). stride and dilation
    are ints; padding "valid", "same", "causal" (dilation * (KW - 1) zeros on
    the left only, so output t sees inputs up to t), an int or (left, right).
    """
    return backend.kernels(x).conv1d(x, w, b, stride, padding, dilation, activation)


def conv1d_backward(dy, x, w, stride=1, padding="valid", dilation=1, activation=None, y=None, z=None, need_dx=True):
    """Gradients of ``conv1d``: (dx, dw, db); y, z and need_dx as for ``conv2d_backward``."""
    return backend.kernels(x).conv1d_backward(dy, x, w, stride, padding, dilation, activation, y, z, need_dx)


def conv2d_transpose(x, w, b=None, stride=1, padding="valid", output_padding=None, dilation=1):
    """Transposed convolution (Keras' Conv2DTranspose): x (N, H, W, C), w (KH, KW, F, C), b (F,) -> (N, HO, WO, F).

    The input gradient of the convolution of the output by w (conv2d_backward's
    dx kernels). Sizes as Keras 3: "valid" gives HO = (H - 1) * stride +
    max(span, stride), "same" H * stride, span = dilation * (KH - 1) + 1; an
    output_padding (int or pair, each < stride) gives (H - 1) * stride + span
    + output_padding ("valid") or (H - 1) * stride + span % 2 + output_padding ("same").
    """
    return backend.kernels(x).conv2d_transpose(x, w, b, stride, padding, output_padding, dilation)


def conv2d_transpose_backward(dy, x, w, stride=1, padding="valid", output_padding=None, dilation=1):
    """Gradients of ``conv2d_transpose``: (dx, dw, db); dx is conv2d(dy, w)."""
    return backend.kernels(x).conv2d_transpose_backward(dy, x, w, stride, padding, output_padding, dilation)

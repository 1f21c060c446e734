"""2-D convolution: images NHWC, kernels HWIO (kh, kw, in, out).

Padding follows Keras/TensorFlow: "valid" (none), "same" (output size
ceil(in / stride); total padding max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0),
the odd one on the bottom/right), or explicit: an int, a pair (ph, pw), or
((top, bottom), (left, right)). The arguments are checked by the compiled
modules (cpp/args/conv.h).
"""

from __future__ import annotations

from ranvier import backend

__all__ = ["conv2d", "conv2d_backward"]


def conv2d(x, w, b=None, stride=1, padding="valid", dilation=1, activation=None):
    """act(conv(x, w) + b): x (N, H, W, C), w (KH, KW, C, K), b (K,) -> (N, HO, WO, K).

    y[n, p, q, k] = sum_{i, j, c} x_pad[n, p*sh + i*dh, q*sw + j*dw, c] * w[i, j, c, k] + b[k]
    (a cross-correlation, as in Keras and PyTorch). stride and dilation are an
    int or a pair (h, w). Bias and activation (None or a name of ranvier.activations.FUSED)
    are fused into the GEMM's store.
    """
    return backend.kernels(x).conv2d(x, w, b, stride, padding, dilation, activation)


def conv2d_backward(dy, x, w, stride=1, padding="valid", dilation=1, activation=None, y=None, z=None):
    """Gradients of ``conv2d``: returns (dx, dw, db).

    dy (N, HO, WO, K) is dL/d(output). With an activation, pass what its
    derivative needs: the pre-activation ``z = conv(x, w) + b`` for those of
    ``ops.activation.SAVES_INPUT`` (gelu, silu, softplus, softsign), else the forward output ``y``.
    """
    return backend.kernels(x).conv2d_backward(dy, x, w, stride, padding, dilation, activation, y, z)

"""Activations, plainly: the specification the kernels are tested against.

NaN in gives NaN out, forward and backward (a NaN ``dy`` or saved array);
an infinite input gives the function's limit: relu(-inf) = 0,
sigmoid(+-inf) = 1, 0, tanh(+-inf) = +-1, gelu(-inf) = 0, gelu(inf) = inf,
and their derivatives there 0 (gelu'(inf) = 1); likewise leaky_relu, elu,
selu, silu, softplus, softsign, hard_sigmoid, exponential (e^x overflows to
inf where float32 does) and relu_general (Keras' ReLU layer).

The backward takes the forward output y, except where the output does not
determine the derivative (or only inaccurately): gelu, silu, softplus,
softsign and relu_general take the input x (``SAVES_INPUT``).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "relu",
    "sigmoid",
    "tanh",
    "gelu",
    "relu_backward",
    "sigmoid_backward",
    "tanh_backward",
    "gelu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "elu",
    "elu_backward",
    "selu",
    "selu_backward",
    "silu",
    "silu_backward",
    "softplus",
    "softplus_backward",
    "softsign",
    "softsign_backward",
    "hard_sigmoid",
    "hard_sigmoid_backward",
    "exponential",
    "exponential_backward",
    "relu_general",
    "relu_general_backward",
]

SAVES_INPUT = frozenset({"gelu", "silu", "softplus", "softsign", "relu_general"})

# SELU's constants (Klambauer et al.), as Keras and PyTorch write them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def relu(x):
    return np.maximum(x, 0)


def sigmoid(x):
    # exp of -|x| only, so large inputs of either sign do not overflow
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def tanh(x):
    return np.tanh(x)


_erf = np.vectorize(math.erf, otypes=[np.float64])


def normal_cdf(x):
    return 0.5 * (1 + _erf(np.asarray(x, dtype=np.float64) / math.sqrt(2))).astype(np.result_type(x, np.float32))


def gelu(x):
    # -inf * Phi(-inf) would be NaN; the limit is 0 (Phi is 0 from -40 down)
    return np.maximum(x, -40.0) * normal_cdf(x)


def relu_backward(dy, y):
    step = np.where(np.isnan(y), np.nan, y > 0)
    return dy * step


def sigmoid_backward(dy, y):
    return dy * y * (1 - y)


def tanh_backward(dy, y):
    return dy * (1 - y * y)


def gelu_backward(dy, x):
    density = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return dy * (normal_cdf(x) + np.clip(x, -40.0, 40.0) * density)  # phi is 0 beyond 40: limits, not inf * 0


def _keep_nan(v, ref):
    return np.where(np.isnan(ref), ref, v)


def leaky_relu(x, negative_slope=0.2):
    if negative_slope == 0:
        return relu(x)
    return np.where(x > 0, x, negative_slope * x)


def leaky_relu_backward(dy, y, negative_slope=0.2):
    """y > 0 exactly where x > 0 (negative_slope >= 0)."""
    return dy * _keep_nan(np.where(y > 0, 1.0, negative_slope), y)


def elu(x, alpha=1.0):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def elu_backward(dy, y, alpha=1.0):
    """alpha e^x = y + alpha where x <= 0 (>= 0 even where y was rounded)."""
    return dy * np.where(y > 0, 1.0, _keep_nan(np.maximum(y + alpha, 0), y))


def selu(x):
    return SELU_SCALE * elu(x, SELU_ALPHA)


def selu_backward(dy, y):
    """scale * alpha * e^x = y + scale * alpha where x <= 0; scale * alpha rounded to float32 as the kernels
    have it, so that the derivative at selu(-inf) (a float32) is exactly 0."""
    scale_alpha = float(np.float32(SELU_SCALE * SELU_ALPHA))
    return dy * np.where(y > 0, SELU_SCALE, _keep_nan(np.maximum(y + scale_alpha, 0), y))


def silu(x):
    # -inf * sigmoid(-inf) would be NaN; the limit is 0 (sigmoid is 0 from -100 down in float32)
    return np.maximum(x, -100.0) * sigmoid(x)


def silu_backward(dy, x):
    s = sigmoid(x)
    return dy * s * (1 + np.clip(x, -100.0, 100.0) * sigmoid(-x))


def softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def softplus_backward(dy, x):
    return dy * sigmoid(x)


def softsign(x):
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(x), np.sign(x), x / (1 + np.abs(x)))


def softsign_backward(dy, x):
    return dy / (1 + np.abs(x)) ** 2


def hard_sigmoid(x):
    """relu6(x + 3) / 6, Keras 3's (Keras 2 had 0.2 x + 0.5 clipped)."""
    return np.clip(x / 6 + 0.5, 0, 1)


def hard_sigmoid_backward(dy, y):
    return dy * _keep_nan(np.where((y > 0) & (y < 1), 1 / 6, 0.0), y)


def exponential(x):
    with np.errstate(over="ignore"):
        return np.exp(x)


def exponential_backward(dy, y):
    return dy * y


def relu_general(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras' ReLU layer: (x if x > threshold else 0), clipped to [0, max_value] when there is one,
    less negative_slope * max(threshold - x, 0)."""
    y = np.where(x > threshold, x, 0.0)
    if max_value is not None:
        y = np.clip(y, 0, max_value)
    if negative_slope != 0:
        y = y - negative_slope * np.maximum(threshold - x, 0)
    return _keep_nan(y, x).astype(np.result_type(x, np.float32))


def relu_general_backward(dy, x, negative_slope=0.0, max_value=None, threshold=0.0):
    """1 where x > threshold (and 0 <= x <= max_value with one), plus negative_slope where x < threshold."""
    d = (x > threshold).astype(np.float64)
    if max_value is not None:
        d = np.where((x > max_value) | (x < 0), 0.0, d)
    d = d + np.where(x < threshold, negative_slope, 0.0)
    return dy * _keep_nan(d, x)


FORWARD = {
    "none": lambda x: x,
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "gelu": gelu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "selu": selu,
    "silu": silu,
    "softplus": softplus,
    "softsign": softsign,
    "hard_sigmoid": hard_sigmoid,
    "exponential": exponential,
}


def backward(activation, dy, y, z):
    """dL/dz of a fused activation from the saved output y or pre-activation z (Keras' default parameters)."""
    if activation in (None, "none"):
        return dy
    grad = globals()[f"{activation}_backward"]
    return grad(dy, z if activation in SAVES_INPUT else y)

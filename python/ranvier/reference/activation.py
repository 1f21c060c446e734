"""Activations, plainly: the specification the kernels are tested against.

NaN in gives NaN out, forward and backward (a NaN ``dy`` or saved array);
an infinite input gives the function's limit: relu(-inf) = 0,
sigmoid(+-inf) = 1, 0, tanh(+-inf) = +-1, gelu(-inf) = 0, gelu(inf) = inf,
and their derivatives there 0 (gelu'(inf) = 1).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["relu", "sigmoid", "tanh", "gelu", "relu_backward", "sigmoid_backward", "tanh_backward", "gelu_backward"]


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


FORWARD = {"none": lambda x: x, "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "gelu": gelu}

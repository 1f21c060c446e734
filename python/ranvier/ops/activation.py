"""Element-wise activations and their backward.

The backward takes the forward *output* ``y``, except where the output does
not determine the derivative (or only inaccurately): gelu, silu, softplus,
softsign and relu_general take the forward *input* ``x`` (``SAVES_INPUT``).
Parameters are Keras': ``leaky_relu(x, negative_slope=0.2)``,
``elu(x, alpha=1.0)``, and ``relu_general`` is Keras' ``ReLU`` layer.
"""

from __future__ import annotations

from ranvier import backend

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

# The activations whose backward takes the forward input x (a fused dense or
# conv then keeps its pre-activation z); the others take the output y.
SAVES_INPUT = frozenset({"gelu", "silu", "softplus", "softsign", "relu_general"})


def relu(x):
    """max(x, 0)"""
    return backend.kernels(x).relu(x)


def sigmoid(x):
    """1 / (1 + exp(-x)), stable for any x"""
    return backend.kernels(x).sigmoid(x)


def tanh(x):
    return backend.kernels(x).tanh(x)


def gelu(x):
    """x * Phi(x), the exact (erf) form that Keras and PyTorch default to"""
    return backend.kernels(x).gelu(x)


def leaky_relu(x, negative_slope=0.2):
    """x where x > 0, negative_slope * x elsewhere; negative_slope >= 0"""
    return backend.kernels(x).leaky_relu(x, negative_slope)


def elu(x, alpha=1.0):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere; alpha >= 0"""
    return backend.kernels(x).elu(x, alpha)


def selu(x):
    """scale * elu(x, alpha) with SELU's constants (alpha 1.67326..., scale 1.05070...)"""
    return backend.kernels(x).selu(x)


def silu(x):
    """x * sigmoid(x) (Keras' swish)"""
    return backend.kernels(x).silu(x)


def softplus(x):
    """log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)): no overflow"""
    return backend.kernels(x).softplus(x)


def softsign(x):
    """x / (1 + |x|)"""
    return backend.kernels(x).softsign(x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6 (Keras 3)"""
    return backend.kernels(x).hard_sigmoid(x)


def exponential(x):
    """exp(x), inf where float32 overflows"""
    return backend.kernels(x).exponential(x)


def relu_general(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras' ReLU: (x if x > threshold else 0) clipped to [0, max_value] when there is one,
    less negative_slope * max(threshold - x, 0)"""
    return backend.kernels(x).relu_general(x, negative_slope, max_value, threshold)


def relu_backward(dy, y):
    """dy * (y > 0), y = relu(x)"""
    return backend.kernels(dy).relu_backward(dy, y)


def sigmoid_backward(dy, y):
    """dy * y * (1 - y), y = sigmoid(x)"""
    return backend.kernels(dy).sigmoid_backward(dy, y)


def tanh_backward(dy, y):
    """dy * (1 - y^2), y = tanh(x)"""
    return backend.kernels(dy).tanh_backward(dy, y)


def gelu_backward(dy, x):
    """dy * (Phi(x) + x phi(x)), from the forward input x"""
    return backend.kernels(dy).gelu_backward(dy, x)


def leaky_relu_backward(dy, y, negative_slope=0.2):
    """dy where y > 0, negative_slope * dy elsewhere, y = leaky_relu(x)"""
    return backend.kernels(dy).leaky_relu_backward(dy, y, negative_slope)


def elu_backward(dy, y, alpha=1.0):
    """dy where y > 0, dy * (y + alpha) elsewhere, y = elu(x, alpha)"""
    return backend.kernels(dy).elu_backward(dy, y, alpha)


def selu_backward(dy, y):
    """dy * scale where y > 0, dy * (y + scale * alpha) elsewhere, y = selu(x)"""
    return backend.kernels(dy).selu_backward(dy, y)


def silu_backward(dy, x):
    """dy * s (1 + x (1 - s)), s = sigmoid(x), from the forward input x"""
    return backend.kernels(dy).silu_backward(dy, x)


def softplus_backward(dy, x):
    """dy * sigmoid(x), from the forward input x"""
    return backend.kernels(dy).softplus_backward(dy, x)


def softsign_backward(dy, x):
    """dy / (1 + |x|)^2, from the forward input x"""
    return backend.kernels(dy).softsign_backward(dy, x)


def hard_sigmoid_backward(dy, y):
    """dy / 6 where 0 < y < 1, y = hard_sigmoid(x)"""
    return backend.kernels(dy).hard_sigmoid_backward(dy, y)


def exponential_backward(dy, y):
    """dy * y, y = exp(x)"""
    return backend.kernels(dy).exponential_backward(dy, y)


def relu_general_backward(dy, x, negative_slope=0.0, max_value=None, threshold=0.0):
    """dy where x > threshold (and 0 <= x <= max_value), negative_slope * dy where x < threshold,
    from the forward input x"""
    return backend.kernels(dy).relu_general_backward(dy, x, negative_slope, max_value, threshold)

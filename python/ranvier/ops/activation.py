"""Element-wise activations and their backward.

The backward of relu, sigmoid and tanh takes the forward *output* ``y``; that
of gelu takes the forward *input* ``x`` (the derivative of gelu is not a
function of its output).
"""
from __future__ import annotations

from ranvier import backend
from ranvier.ops import _checks

__all__ = ["relu", "sigmoid", "tanh", "gelu", "relu_backward", "sigmoid_backward", "tanh_backward", "gelu_backward"]


def _forward(op: str, act: str, x):
    x = _checks.contiguous(_checks.float32(op, "x", x))
    y = backend.empty_like(x)
    backend.kernels(x).activation_forward(y, x, act)
    return y


def _backward(op: str, act: str, dy, saved, saved_name: str):
    dy = _checks.contiguous(_checks.float32(op, "dy", dy))
    saved = _checks.contiguous(_checks.float32(op, saved_name, saved))
    _checks.same_device(op, dy=dy, **{saved_name: saved})
    if dy.shape != saved.shape:
        raise ValueError(
            f"[{op}] dy and {saved_name} must have the same shape, got {tuple(dy.shape)} and {tuple(saved.shape)}"
        )
    dx = backend.empty_like(dy)
    backend.kernels(dy).activation_backward(dx, dy, saved, act)
    return dx


def relu(x):
    """max(x, 0)"""
    return _forward("relu", "relu", x)


def sigmoid(x):
    """1 / (1 + exp(-x)), stable for any x"""
    return _forward("sigmoid", "sigmoid", x)


def tanh(x):
    return _forward("tanh", "tanh", x)


def gelu(x):
    """x * Phi(x), the exact (erf) form that Keras and PyTorch default to"""
    return _forward("gelu", "gelu", x)


def relu_backward(dy, y):
    """dy * (y > 0), y = relu(x)"""
    return _backward("relu_backward", "relu", dy, y, "y")


def sigmoid_backward(dy, y):
    """dy * y * (1 - y), y = sigmoid(x)"""
    return _backward("sigmoid_backward", "sigmoid", dy, y, "y")


def tanh_backward(dy, y):
    """dy * (1 - y^2), y = tanh(x)"""
    return _backward("tanh_backward", "tanh", dy, y, "y")


def gelu_backward(dy, x):
    """dy * (Phi(x) + x phi(x)), from the forward input x"""
    return _backward("gelu_backward", "gelu", dy, x, "x")

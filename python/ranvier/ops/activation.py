"""Element-wise activations and their backward.

The backward of relu, sigmoid and tanh takes the forward *output* ``y``; that
of gelu takes the forward *input* ``x`` (the derivative of gelu is not a
function of its output).
"""

from __future__ import annotations

from ranvier import backend

__all__ = ["relu", "sigmoid", "tanh", "gelu", "relu_backward", "sigmoid_backward", "tanh_backward", "gelu_backward"]


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

"""Plain NumPy versions of every op in ``ranvier.ops``, under the same names.

This is the specification: short, obviously correct, slow. Tests compare the
kernels with it (in float64) and check it by finite differences.
"""
from ranvier.reference.activation import (
    gelu,
    gelu_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    tanh,
    tanh_backward,
)
from ranvier.reference.dense import linear, linear_backward, matmul

__all__ = [
    "gelu",
    "gelu_backward",
    "linear",
    "linear_backward",
    "matmul",
    "relu",
    "relu_backward",
    "sigmoid",
    "sigmoid_backward",
    "tanh",
    "tanh_backward",
]

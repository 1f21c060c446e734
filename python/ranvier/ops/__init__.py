"""Array-level API: arrays in, arrays out (NumPy -> CPU kernels, CuPy -> GPU).

Each op validates its arguments (errors name the op and the argument),
allocates its outputs with the input's array module and calls the kernel
module that ``ranvier.backend`` picks. ``ranvier.reference`` holds the plain
NumPy specification of every op under the same name.
"""
from ranvier.ops.activation import (
    gelu,
    gelu_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    tanh,
    tanh_backward,
)
from ranvier.ops.dense import linear, linear_backward, matmul

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

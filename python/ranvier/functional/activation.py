"""The element-wise activations on Tensors (see ranvier.ops.activation)."""

from __future__ import annotations

from ranvier import ops
from ranvier.functional.arithmetic import as_tensor
from ranvier.ops.activation import SAVES_INPUT
from ranvier.tensor import Tensor, make_result


def _activation(name: str):
    forward = getattr(ops, name)
    grad = getattr(ops, f"{name}_backward")
    from_input = name in SAVES_INPUT

    def apply(x, *params) -> Tensor:
        x = as_tensor(x)
        y = forward(x.data, *params)
        return make_result(y, (x,), lambda g: (grad(g, x.data if from_input else y, *params),))

    apply.__name__ = name
    apply.__doc__ = f"{name} applied element-wise (see ranvier.ops.{name})"
    return apply


relu = _activation("relu")
sigmoid = _activation("sigmoid")
tanh = _activation("tanh")
gelu = _activation("gelu")
selu = _activation("selu")
silu = _activation("silu")
softplus = _activation("softplus")
softsign = _activation("softsign")
hard_sigmoid = _activation("hard_sigmoid")
exponential = _activation("exponential")
_leaky_relu = _activation("leaky_relu")
_elu = _activation("elu")
_relu_general = _activation("relu_general")


def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    """x where x > 0, negative_slope * x elsewhere (see ranvier.ops.leaky_relu)"""
    return _leaky_relu(x, negative_slope)


def elu(x, alpha: float = 1.0) -> Tensor:
    """x where x > 0, alpha * (exp(x) - 1) elsewhere (see ranvier.ops.elu)"""
    return _elu(x, alpha)


def relu_general(x, negative_slope: float = 0.0, max_value=None, threshold: float = 0.0) -> Tensor:
    """Keras' ReLU with its parameters (see ranvier.ops.relu_general)"""
    return _relu_general(x, negative_slope, max_value, threshold)

"""The element-wise activations on Tensors: relu, sigmoid, tanh, gelu."""

from __future__ import annotations

from ranvier import ops
from ranvier.functional.arithmetic import as_tensor
from ranvier.tensor import Tensor, make_result


def _activation(name: str):
    forward = getattr(ops, name)
    grad = getattr(ops, f"{name}_backward")
    from_input = name == "gelu"

    def apply(x) -> Tensor:
        x = as_tensor(x)
        y = forward(x.data)
        return make_result(y, (x,), lambda g: (grad(g, x.data if from_input else y),))

    apply.__name__ = name
    apply.__doc__ = f"{name} applied element-wise (see ranvier.ops.{name})"
    return apply


relu = _activation("relu")
sigmoid = _activation("sigmoid")
tanh = _activation("tanh")
gelu = _activation("gelu")

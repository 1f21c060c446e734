"""The element-wise activations, forward+backward: relu and gelu (exact erf
form) as before, and leaky_relu, elu, selu, silu, softplus, softsign and
hard_sigmoid against PyTorch's F.leaky_relu, F.elu, ... Bytes: x read and y
written forward; dy and the saved array (y, or x where the derivative needs
it) read and dx written backward (5 floats per element). NumPy only for relu
(it has no erf, and the others are not one NumPy call)."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import BYTES, Case, randn, tensor
from ranvier.ops.activation import SAVES_INPUT

SHAPE = (4096, 1024)

# ranvier's name -> PyTorch's, with Keras' default parameters on both sides
_TORCH = {
    "relu": ("relu", {}),
    "gelu": ("gelu", {}),
    "leaky_relu": ("leaky_relu", {"negative_slope": 0.2}),
    "elu": ("elu", {}),
    "selu": ("selu", {}),
    "silu": ("silu", {}),
    "softplus": ("softplus", {}),
    "softsign": ("softsign", {}),
    "hard_sigmoid": ("hardsigmoid", {}),
}


def _numpy_relu(x, dy):
    y = np.maximum(x, 0)
    return y, dy * (y > 0)


def _case(name: str) -> Case:
    forward, backward = getattr(ops, name), getattr(ops, f"{name}_backward")

    def build(torch):
        rng = np.random.default_rng(0)
        x, dy = randn(rng, *SHAPE), randn(rng, *SHAPE)

        def ours():
            y = forward(x)
            return backward(dy, x if name in SAVES_INPUT else y)

        fns = {"ranvier": ours}
        if name == "relu":
            fns["numpy"] = lambda: _numpy_relu(x, dy)
        if torch is not None:
            torch_name, kwargs = _TORCH[name]
            act = getattr(torch.nn.functional, torch_name)
            tx, tdy = tensor(torch, x, True), tensor(torch, dy)
            fns["torch"] = lambda: torch.autograd.grad(act(tx, **kwargs), tx, tdy)
        return fns

    rows, cols = SHAPE
    return Case(f"{name} fwd+bwd", f"{rows}x{cols}", 5 * 4.0 * rows * cols, BYTES, build)


def cases(quick: bool):
    names = ("relu", "gelu") if quick else tuple(_TORCH)
    return [_case(name) for name in names]

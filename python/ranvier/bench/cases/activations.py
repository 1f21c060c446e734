"""relu and gelu (exact erf form), forward+backward, elementwise. Bytes:
x read and y written forward; dy and the saved array (y for relu, x for
gelu) read and dx written backward (5 floats per element). NumPy has no erf,
so no plain NumPy gelu."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import BYTES, Case, randn, tensor

SHAPE = (4096, 1024)


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
            return backward(dy, y if name == "relu" else x)

        fns = {"ranvier": ours}
        if name == "relu":
            fns["numpy"] = lambda: _numpy_relu(x, dy)
        if torch is not None:
            act = getattr(torch.nn.functional, name)
            tx, tdy = tensor(torch, x, True), tensor(torch, dy)
            fns["torch"] = lambda: torch.autograd.grad(act(tx), tx, tdy)
        return fns

    rows, cols = SHAPE
    return Case(f"{name} fwd+bwd", f"{rows}x{cols}", 5 * 4.0 * rows * cols, BYTES, build)


def cases(quick: bool):
    return [_case("relu"), _case("gelu")]

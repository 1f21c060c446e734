"""LSTM over a whole sequence, forward+backward (BPTT), against torch.nn.LSTM.
FLOPs: the gate GEMMs, 2 T B (F + U) 4U forward, three times that with the
backward. NumPy has no meaningful version (a Python loop over time steps)."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import FLOPS, Case, Target, randn, tensor

SHAPE = (100, 64, 32, 128)  # T B F U
TARGETS = (Target("torch", 1.5),)


def recurrent_case(name: str, gates: int, bias_shape: tuple, forward, backward, torch_module: str) -> Case:
    """A recurrent op over SHAPE, forward+backward, against the torch module of the same cell (LSTM, GRU)."""
    steps, batch, features, units = SHAPE

    def build(torch):
        rng = np.random.default_rng(0)
        x, dout = randn(rng, batch, steps, features), randn(rng, batch, steps, units)
        kernel = randn(rng, features, gates * units, scale=features**-0.5)
        recurrent = randn(rng, units, gates * units, scale=units**-0.5)
        bias = randn(rng, *bias_shape(units), scale=0.1)

        def ours():
            _, cache = forward(x, kernel, recurrent, bias, return_cache=True)
            return backward(dout, x, kernel, recurrent, bias, cache)

        fns = {"ranvier": ours}
        if torch is not None:
            cell = getattr(torch.nn, torch_module)(features, units, batch_first=True)
            tx, tdout = tensor(torch, x, True), tensor(torch, dout)
            wrt = (tx, *cell.parameters())

            def theirs():
                out, _ = cell(tx)
                return torch.autograd.grad(out, wrt, tdout)

            fns["torch"] = theirs
        return fns

    flops = 3 * 2.0 * steps * batch * (features + units) * gates * units
    return Case(f"{name} fwd+bwd", f"T{steps} B{batch} F{features}->{units}", flops, FLOPS, build, TARGETS)


def cases(quick: bool):
    return [recurrent_case("lstm", 4, lambda units: (4 * units,), ops.lstm, ops.lstm_backward, "LSTM")]

"""GRU over a whole sequence, forward+backward (BPTT), against torch.nn.GRU.
FLOPs: the gate GEMMs, 2 T B (F + U) 3U forward, three times that with the
backward. torch's GRU is Keras' with reset_after=True (its gate blocks in
the order r, z, n): the same function, so the same work; the values agree
once the weights are mapped (tests/test_rnn.py). NumPy has no meaningful
version (a Python loop over time steps)."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import FLOPS, Case, Target, randn, tensor

SHAPE = (100, 64, 32, 128)  # T B F U, as the LSTM case
TARGETS = (Target("torch", 1.5),)


def _case() -> Case:
    steps, batch, features, units = SHAPE

    def build(torch):
        rng = np.random.default_rng(0)
        x, dout = randn(rng, batch, steps, features), randn(rng, batch, steps, units)
        kernel = randn(rng, features, 3 * units, scale=features**-0.5)
        recurrent = randn(rng, units, 3 * units, scale=units**-0.5)
        bias = randn(rng, 2, 3 * units, scale=0.1)

        def ours():
            _, cache = ops.gru(x, kernel, recurrent, bias, return_cache=True)
            return ops.gru_backward(dout, x, kernel, recurrent, bias, cache)

        fns = {"ranvier": ours}
        if torch is not None:
            gru = torch.nn.GRU(features, units, batch_first=True)
            tx, tdout = tensor(torch, x, True), tensor(torch, dout)
            wrt = (tx, *gru.parameters())

            def theirs():
                out, _ = gru(tx)
                return torch.autograd.grad(out, wrt, tdout)

            fns["torch"] = theirs
        return fns

    flops = 3 * 2.0 * steps * batch * (features + units) * 3 * units
    return Case("gru fwd+bwd", f"T{steps} B{batch} F{features}->{units}", flops, FLOPS, build, TARGETS)


def cases(quick: bool):
    return [_case()]

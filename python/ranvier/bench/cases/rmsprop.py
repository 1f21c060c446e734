"""One RMSprop step on 10M parameters, in place (Keras' defaults: no momentum,
uncentered). Bytes: param, grad and v read, param and v written (5 floats per
parameter)."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import BYTES, Case, Target, randn, tensor

PARAMS = 10_000_000
LR, RHO, EPS = 1e-3, 0.9, 1e-7
TARGETS = (Target("bandwidth", 0.70),)


def _numpy_rmsprop(p, g, v):
    v *= RHO
    v += (1 - RHO) * g * g
    p -= LR * g / (np.sqrt(v) + EPS)


def _case() -> Case:
    def build(torch):
        rng = np.random.default_rng(0)
        p, g = randn(rng, PARAMS), randn(rng, PARAMS)
        v = np.zeros(PARAMS, np.float32)
        p2, v2 = p.copy(), v.copy()
        fns = {
            "ranvier": lambda: ops.rmsprop_update(p, g, v, lr=LR, rho=RHO, eps=EPS),
            "numpy": lambda: _numpy_rmsprop(p2, g, v2),
        }
        if torch is not None:  # the same formula: eps added to sqrt(v)
            tp = tensor(torch, p, True)
            tp.grad = tensor(torch, g)
            opt = torch.optim.RMSprop([tp], lr=LR, alpha=RHO, eps=EPS)
            fns["torch"] = opt.step
        return fns

    return Case("rmsprop step", f"{PARAMS // 1_000_000}M params", 5 * 4.0 * PARAMS, BYTES, build, TARGETS)


def cases(quick: bool):
    return [_case()]

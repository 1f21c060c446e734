"""One Adam step on 10M parameters, in place. Bytes: param, grad, m and v
read, param, m and v written (7 floats per parameter)."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import BYTES, Case, Target, randn, tensor

PARAMS = 10_000_000
STEP, LR, BETA1, BETA2, EPS = 10, 1e-3, 0.9, 0.999, 1e-8
TARGETS = (Target("bandwidth", 0.70),)


def _numpy_adam(p, g, m, v):
    m *= BETA1
    m += (1 - BETA1) * g
    v *= BETA2
    v += (1 - BETA2) * g * g
    p -= (LR / (1 - BETA1**STEP)) * m / (np.sqrt(v / (1 - BETA2**STEP)) + EPS)


def _case() -> Case:
    def build(torch):
        rng = np.random.default_rng(0)
        p, g = randn(rng, PARAMS), randn(rng, PARAMS)
        m, v = np.zeros(PARAMS, np.float32), np.zeros(PARAMS, np.float32)
        p2, m2, v2 = p.copy(), m.copy(), v.copy()
        fns = {
            "ranvier": lambda: ops.adam_update(p, g, m, v, STEP, lr=LR, beta1=BETA1, beta2=BETA2, eps=EPS),
            "numpy": lambda: _numpy_adam(p2, g, m2, v2),
        }
        if torch is not None:
            tp = tensor(torch, p, True)
            tp.grad = tensor(torch, g)
            opt = torch.optim.Adam([tp], lr=LR, betas=(BETA1, BETA2), eps=EPS)
            fns["torch"] = opt.step
        return fns

    return Case("adam step", f"{PARAMS // 1_000_000}M params", 7 * 4.0 * PARAMS, BYTES, build, TARGETS)


def cases(quick: bool):
    return [_case()]

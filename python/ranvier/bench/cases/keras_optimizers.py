"""One step of Keras 3's Nadam, Adagrad, Adamax, Lion and Adam(amsgrad=True) on 10M parameters, in place,
against torch.optim's NAdam, Adagrad, Adamax and Adam(amsgrad=True) (the same arrays read and written;
PyTorch's NAdam decays its momentum schedule differently and adds Adagrad's epsilon outside the root,
the same work). PyTorch has no Lion: NumPy only. Bytes: every array read, every state written."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import BYTES, Case, Target, randn, tensor

PARAMS = 10_000_000
STEP, LR, EPS = 10, 1e-3, 1e-7
TARGETS = (Target("bandwidth", 0.70),)


def _u_product(step, beta1=0.9):
    return float(np.prod([beta1 * (1 - 0.5 * 0.96**t) for t in range(1, step + 1)]))


def _numpy_lion(p, g, m):
    p -= LR * np.sign(0.9 * m + 0.1 * g)
    m *= 0.99
    m += 0.01 * g


def _numpy_adagrad(p, g, acc):
    acc += g * g
    p -= LR * g / np.sqrt(acc + EPS)


def _case(name, floats, slots, ranvier_step, numpy_step, torch_optimizer):
    def build(torch):
        rng = np.random.default_rng(0)
        p, g = randn(rng, PARAMS), randn(rng, PARAMS)
        state = [np.full(PARAMS, 0.1, np.float32) for _ in range(slots)]
        fns = {"ranvier": lambda: ranvier_step(p, g, *state)}
        if numpy_step is not None:
            p2, state2 = p.copy(), [s.copy() for s in state]
            fns["numpy"] = lambda: numpy_step(p2, g, *state2)
        if torch is not None and torch_optimizer is not None:
            tp = tensor(torch, p, True)
            tp.grad = tensor(torch, g)
            opt = torch_optimizer(torch, tp)
            fns["torch"] = opt.step
        return fns

    return Case(f"{name} step", f"{PARAMS // 1_000_000}M params", floats * 4.0 * PARAMS, BYTES, build, TARGETS)


def cases(quick: bool):
    return [
        _case(
            "nadam",
            7,
            2,
            lambda p, g, m, v: ops.nadam_update(p, g, m, v, STEP, _u_product(STEP), lr=LR, eps=EPS),
            None,
            lambda torch, tp: torch.optim.NAdam([tp], lr=LR, eps=EPS),
        ),
        _case(
            "adagrad",
            5,
            1,
            lambda p, g, acc: ops.adagrad_update(p, g, acc, lr=LR, eps=EPS),
            _numpy_adagrad,
            lambda torch, tp: torch.optim.Adagrad([tp], lr=LR, eps=EPS, initial_accumulator_value=0.1),
        ),
        _case(
            "adamax",
            7,
            2,
            lambda p, g, m, u: ops.adamax_update(p, g, m, u, STEP, lr=LR, eps=EPS),
            None,
            lambda torch, tp: torch.optim.Adamax([tp], lr=LR, eps=EPS),
        ),
        _case(
            "lion",
            5,
            1,
            lambda p, g, m: ops.lion_update(p, g, m, lr=LR),
            _numpy_lion,
            None,
        ),
        _case(
            "adam amsgrad",
            9,
            3,
            lambda p, g, m, v, v_hat: ops.adam_update(p, g, m, v, STEP, lr=LR, eps=EPS, v_hat=v_hat),
            None,
            lambda torch, tp: torch.optim.Adam([tp], lr=LR, eps=EPS, amsgrad=True),
        ),
    ]

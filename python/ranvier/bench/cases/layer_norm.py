"""layer_norm over the last axis, forward+backward. Bytes: x read and y
written forward; dy and x read and dx written backward (5 floats per
element; the statistics and the (D,) parameters are negligible)."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import BYTES, Case, randn, tensor

SHAPE = (4096, 1024)
EPS = 1e-5


def _numpy_forward_backward(x, gamma, beta, dy):
    mean = x.mean(axis=-1, keepdims=True)
    xc = x - mean
    rstd = 1 / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + EPS)
    xhat = xc * rstd
    y = xhat * gamma + beta
    g = dy * gamma
    dx = rstd * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    return y, dx, (dy * xhat).sum(axis=0), dy.sum(axis=0)


def _case() -> Case:
    rows, d = SHAPE

    def build(torch):
        rng = np.random.default_rng(0)
        x, dy = randn(rng, rows, d), randn(rng, rows, d)
        gamma, beta = 1 + randn(rng, d, scale=0.1), randn(rng, d, scale=0.1)

        def ours():
            _, mean, rstd = ops.layer_norm(x, gamma, beta, EPS, return_stats=True)
            return ops.layer_norm_backward(dy, x, gamma, mean, rstd)

        fns = {"ranvier": ours, "numpy": lambda: _numpy_forward_backward(x, gamma, beta, dy)}
        if torch is not None:
            tx, tg, tb = (tensor(torch, a, True) for a in (x, gamma, beta))
            tdy = tensor(torch, dy)

            def theirs():
                y = torch.nn.functional.layer_norm(tx, (d,), tg, tb, EPS)
                return torch.autograd.grad(y, (tx, tg, tb), tdy)

            fns["torch"] = theirs
        return fns

    return Case("layer_norm fwd+bwd", f"{rows}x{d}", 5 * 4.0 * rows * d, BYTES, build)


def cases(quick: bool):
    return [_case()]

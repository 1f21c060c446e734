"""GEMM c = a @ b: large squares (>= 0.95x OpenBLAS) and the classic networks'
layer shapes (>= 1.1x OpenBLAS). FLOPs: 2 m k n."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import FLOPS, Case, Target, randn

SQUARES = (1024, 2048, 4096)
LAYERS = ((64, 784, 128), (128, 1152, 64), (256, 1600, 128), (32, 128, 10))


def _case(m: int, k: int, n: int, target: Target) -> Case:
    def build(torch):
        rng = np.random.default_rng(0)
        a, b = randn(rng, m, k), randn(rng, k, n)
        fns = {"ranvier": lambda: ops.matmul(a, b), "numpy": lambda: a @ b}
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            fns["torch"] = lambda: ta @ tb
        return fns

    return Case("gemm", f"{m}x{k}x{n}", 2.0 * m * k * n, FLOPS, build, (target,))


def cases(quick: bool):
    squares = SQUARES[:1] if quick else SQUARES
    return [_case(n, n, n, Target("numpy", 0.95)) for n in squares] + [
        _case(m, k, n, Target("numpy", 1.1)) for m, k, n in LAYERS
    ]

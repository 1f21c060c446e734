"""conv2d 3x3 "same" with bias, forward+backward, at the CNNs' layer shapes.
FLOPs: 2 N H W K 9 C forward, three times that with dx and dw. PyTorch runs
on its native NCHW layout (converted before timing); NumPy has no
meaningful version."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import FLOPS, Case, Target, nchw, randn, tensor

SHAPES = ((64, 28, 28, 1, 32), (64, 13, 13, 32, 64), (64, 32, 32, 64, 64), (32, 16, 16, 128, 128))  # N H W C K
QUICK = SHAPES[:2]


def _case(n: int, h: int, w: int, c: int, k: int) -> Case:
    def build(torch):
        rng = np.random.default_rng(0)
        x, kernel, b = randn(rng, n, h, w, c), randn(rng, 3, 3, c, k, scale=(9 * c) ** -0.5), randn(rng, k)
        dy = randn(rng, n, h, w, k)

        def ours():
            ops.conv2d(x, kernel, b, padding="same")
            return ops.conv2d_backward(dy, x, kernel, padding="same")

        fns = {"ranvier": ours}
        if torch is not None:
            F = torch.nn.functional
            tx = tensor(torch, nchw(x), True)
            tw = tensor(torch, kernel.transpose(3, 2, 0, 1), True)  # HWIO -> OIHW
            tb, tdy = tensor(torch, b, True), tensor(torch, nchw(dy))

            def theirs():
                y = F.conv2d(tx, tw, tb, padding=1)
                return torch.autograd.grad(y, (tx, tw, tb), tdy)

            fns["torch"] = theirs
        return fns

    target = Target("torch", 3.0 if c == 1 else 1.0)
    return Case("conv2d fwd+bwd", f"N{n} {h}x{w} C{c}->{k}", 3 * 2.0 * n * h * w * k * 9 * c, FLOPS, build, (target,))


def cases(quick: bool):
    return [_case(*shape) for shape in (QUICK if quick else SHAPES)]

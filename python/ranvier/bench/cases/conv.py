"""conv2d 3x3 "same" with bias, forward+backward, at the CNNs' layer shapes;
conv1d (causal, a sequence model's layer) and conv2d_transpose (a decoder's
4x4 stride-2 upsampling) likewise. FLOPs: 2 N HO WO K KH KW C forward
(for the transpose, over its input pixels), three times that with dx and dw.
PyTorch runs on its native NCHW / NCL layout (converted before timing);
NumPy has no meaningful version."""

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


SHAPES_1D = ((64, 256, 64, 64, 3), (32, 1024, 32, 64, 5))  # N L C K KW


def _case_1d(n: int, length: int, c: int, k: int, kw: int) -> Case:
    def build(torch):
        rng = np.random.default_rng(0)
        x, kernel, b = randn(rng, n, length, c), randn(rng, kw, c, k, scale=(kw * c) ** -0.5), randn(rng, k)
        dy = randn(rng, n, length, k)

        def ours():
            ops.conv1d(x, kernel, b, padding="causal")
            return ops.conv1d_backward(dy, x, kernel, padding="causal")

        fns = {"ranvier": ours}
        if torch is not None:
            F = torch.nn.functional
            tx = tensor(torch, x.transpose(0, 2, 1), True)
            tw = tensor(torch, kernel.transpose(2, 1, 0), True)  # (KW, C, K) -> (K, C, KW)
            tb, tdy = tensor(torch, b, True), tensor(torch, dy.transpose(0, 2, 1))

            def theirs():
                y = F.conv1d(F.pad(tx, (kw - 1, 0)), tw, tb)
                return torch.autograd.grad(y, (tx, tw, tb), tdy)

            fns["torch"] = theirs
        return fns

    flops = 3 * 2.0 * n * length * k * kw * c
    return Case("conv1d fwd+bwd", f"N{n} L{length} C{c}->{k} k{kw}", flops, FLOPS, build, (Target("torch", 1.0),))


SHAPES_TRANSPOSE = ((32, 16, 16, 64, 32), (16, 32, 32, 32, 16))  # N H W C F, 4x4 stride 2 "same"


def _case_transpose(n: int, h: int, w: int, c: int, f: int) -> Case:
    def build(torch):
        rng = np.random.default_rng(0)
        x, kernel, b = randn(rng, n, h, w, c), randn(rng, 4, 4, f, c, scale=(16 * c) ** -0.5), randn(rng, f)
        dy = randn(rng, n, 2 * h, 2 * w, f)

        def ours():
            ops.conv2d_transpose(x, kernel, b, stride=2, padding="same")
            return ops.conv2d_transpose_backward(dy, x, kernel, stride=2, padding="same")

        fns = {"ranvier": ours}
        if torch is not None:
            F = torch.nn.functional
            tx = tensor(torch, nchw(x), True)
            tw = tensor(torch, kernel.transpose(3, 2, 0, 1), True)  # (KH, KW, F, C) -> (C, F, KH, KW)
            tb, tdy = tensor(torch, b, True), tensor(torch, nchw(dy))

            def theirs():  # Keras' "same" for an even kernel and stride 2 is torch's padding 1
                y = F.conv_transpose2d(tx, tw, tb, stride=2, padding=1)
                return torch.autograd.grad(y, (tx, tw, tb), tdy)

            fns["torch"] = theirs
        return fns

    flops = 3 * 2.0 * n * h * w * c * f * 16
    return Case(
        "conv2d_transpose fwd+bwd", f"N{n} {h}x{w} C{c}->{f} 4x4/2", flops, FLOPS, build, (Target("torch", 1.0),)
    )


def cases(quick: bool):
    return (
        [_case(*shape) for shape in (QUICK if quick else SHAPES)]
        + [_case_1d(*shape) for shape in SHAPES_1D[: 1 if quick else None]]
        + [_case_transpose(*shape) for shape in SHAPES_TRANSPOSE[: 1 if quick else None]]
    )

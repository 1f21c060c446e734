"""Nearest 2x upsampling and a 1-pixel zero padding, forward+backward. Bytes,
with S the elements of x: upsampling reads x, writes 4 S, then reads dy (4 S)
and writes dx (10 S floats); padding reads x and writes y, then reads dy and
writes dx (4 S, counting y and dy as S)."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import BYTES, Case, Target, nchw, randn, tensor

SHAPE = (32, 32, 32, 64)  # N H W C
TARGETS = (Target("bandwidth", 0.50), Target("torch", 1.0))


def _numpy_upsample(x, dy):
    n, h, w, c = x.shape
    return x.repeat(2, axis=1).repeat(2, axis=2), dy.reshape(n, h, 2, w, 2, c).sum(axis=(2, 4))


def _numpy_pad(x, dy):
    return np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), dy[:, 1:-1, 1:-1, :].copy()


def _case(kind: str) -> Case:
    n, h, w, c = SHAPE
    out_hw = (2 * h, 2 * w) if kind == "upsample" else (h + 2, w + 2)

    def build(torch):
        rng = np.random.default_rng(0)
        x, dy = randn(rng, n, h, w, c), randn(rng, n, *out_hw, c)

        if kind == "upsample":

            def ours():
                ops.upsample2d(x, 2)
                return ops.upsample2d_backward(dy, x, 2)

        else:

            def ours():
                ops.pad2d(x, 1)
                return ops.pad2d_backward(dy, x, 1)

        fns = {"ranvier": ours, "numpy": lambda: (_numpy_upsample if kind == "upsample" else _numpy_pad)(x, dy)}
        if torch is not None:
            f = torch.nn.functional
            tx, tdy = tensor(torch, nchw(x), True), tensor(torch, nchw(dy))

            def forward(t):
                return (
                    f.interpolate(t, scale_factor=2, mode="nearest") if kind == "upsample" else f.pad(t, (1, 1, 1, 1))
                )

            def theirs():
                return torch.autograd.grad(forward(tx), tx, tdy)

            fns["torch"] = theirs
        return fns

    floats = (10.0 if kind == "upsample" else 4.0) * n * h * w * c
    name = "upsample2d nearest 2x fwd+bwd" if kind == "upsample" else "pad2d 1 fwd+bwd"
    return Case(name, f"N{n} {h}x{w} C{c}", 4.0 * floats, BYTES, build, TARGETS)


def cases(quick: bool):
    return [_case("upsample"), _case("pad")]

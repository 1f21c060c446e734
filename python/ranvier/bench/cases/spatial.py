"""Nearest and bilinear 2x upsampling and a 1-pixel zero padding,
forward+backward. Bytes, with S the elements of x: upsampling reads x, writes
4 S, then reads dy (4 S) and writes dx (10 S floats); padding reads x and
writes y, then reads dy and writes dx (4 S, counting y and dy as S)."""

from __future__ import annotations

import numpy as np

from ranvier import ops, reference
from ranvier.bench.cases.base import BYTES, Case, Target, nchw, randn, tensor

SHAPE = (32, 32, 32, 64)  # N H W C
TARGETS = (Target("bandwidth", 0.50), Target("torch", 1.0))


def _numpy_upsample(x, dy):
    n, h, w, c = x.shape
    return x.repeat(2, axis=1).repeat(2, axis=2), dy.reshape(n, h, 2, w, 2, c).sum(axis=(2, 4))


def _numpy_bilinear(x, dy):
    """Keras' resize on NumPy arrays would be slower still: the reference is the plain version."""
    return reference.upsample2d(x, 2, "bilinear"), reference.upsample2d_backward(dy, x, 2, "bilinear")


def _numpy_pad(x, dy):
    return np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), dy[:, 1:-1, 1:-1, :].copy()


# kind -> (forward, backward, numpy version, torch forward, name)
KINDS = {
    "nearest": (
        lambda x: ops.upsample2d(x, 2),
        lambda dy, x: ops.upsample2d_backward(dy, x, 2),
        _numpy_upsample,
        lambda f, t: f.interpolate(t, scale_factor=2, mode="nearest"),
        "upsample2d nearest 2x fwd+bwd",
    ),
    "bilinear": (
        lambda x: ops.upsample2d(x, 2, "bilinear"),
        lambda dy, x: ops.upsample2d_backward(dy, x, 2, "bilinear"),
        _numpy_bilinear,
        lambda f, t: f.interpolate(t, scale_factor=2, mode="bilinear", align_corners=False),
        "upsample2d bilinear 2x fwd+bwd",
    ),
    "pad": (
        lambda x: ops.pad2d(x, 1),
        lambda dy, x: ops.pad2d_backward(dy, x, 1),
        _numpy_pad,
        lambda f, t: f.pad(t, (1, 1, 1, 1)),
        "pad2d 1 fwd+bwd",
    ),
}


def _case(kind: str) -> Case:
    n, h, w, c = SHAPE
    out_hw = (h + 2, w + 2) if kind == "pad" else (2 * h, 2 * w)
    forward, backward, numpy_version, torch_forward, name = KINDS[kind]

    def build(torch):
        rng = np.random.default_rng(0)
        x, dy = randn(rng, n, h, w, c), randn(rng, n, *out_hw, c)

        def ours():
            forward(x)
            return backward(dy, x)

        fns = {"ranvier": ours, "numpy": lambda: numpy_version(x, dy)}
        if torch is not None:
            tx, tdy = tensor(torch, nchw(x), True), tensor(torch, nchw(dy))

            def theirs():
                return torch.autograd.grad(torch_forward(torch.nn.functional, tx), tx, tdy)

            fns["torch"] = theirs
        return fns

    floats = (4.0 if kind == "pad" else 10.0) * n * h * w * c
    return Case(name, f"N{n} {h}x{w} C{c}", 4.0 * floats, BYTES, build, TARGETS)


def cases(quick: bool):
    return [_case(kind) for kind in KINDS]

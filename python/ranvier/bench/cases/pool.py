"""max and avg pooling 2x2 stride 2, and global max pooling, forward+backward.
Bytes, with S the elements of x: max reads x, writes y, then reads dy and x
and writes dx (3.5 S floats); avg does not read x again (2.5 S floats);
global max reads x, then x twice more (the maxima, then the claims) and
writes dx (4 S floats)."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import BYTES, Case, Target, nchw, randn, tensor

SHAPE = (64, 32, 32, 64)  # N H W C
TARGETS = (Target("bandwidth", 0.70), Target("torch", 5.0))


def _windows(x):
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c)


def _numpy_max(x, dy):
    xw = _windows(x)
    y = xw.max(axis=(2, 4), keepdims=True)
    dx = (xw == y) * dy[:, :, None, :, None, :]  # ties share the gradient; random floats have none
    return y, dx.reshape(x.shape)


def _numpy_avg(x, dy):
    y = _windows(x).mean(axis=(2, 4))
    dx = np.broadcast_to((dy * 0.25)[:, :, None, :, None, :], _windows(x).shape)
    return y, dx.reshape(x.shape)


def _case(kind: str) -> Case:
    forward, backward = getattr(ops, f"{kind}_pool2d"), getattr(ops, f"{kind}_pool2d_backward")

    def build(torch):
        rng = np.random.default_rng(0)
        n, h, w, c = SHAPE
        x, dy = randn(rng, n, h, w, c), randn(rng, n, h // 2, w // 2, c)

        def ours():
            forward(x, 2)
            return backward(dy, x, 2)

        fns = {"ranvier": ours, "numpy": lambda: (_numpy_max if kind == "max" else _numpy_avg)(x, dy)}
        if torch is not None:
            pool = getattr(torch.nn.functional, f"{kind}_pool2d")
            tx, tdy = tensor(torch, nchw(x), True), tensor(torch, nchw(dy))

            def theirs():
                return torch.autograd.grad(pool(tx, 2), tx, tdy)

            fns["torch"] = theirs
        return fns

    n, h, w, c = SHAPE
    floats = (3.5 if kind == "max" else 2.5) * n * h * w * c
    return Case(f"{kind}_pool2d fwd+bwd", f"N{n} {h}x{w} C{c}", 4.0 * floats, BYTES, build, TARGETS)


def _case_global_max() -> Case:
    def build(torch):
        rng = np.random.default_rng(0)
        n, h, w, c = SHAPE
        x, dy = randn(rng, n, h, w, c), randn(rng, n, c)

        def ours():
            ops.global_max_pool(x)
            return ops.global_max_pool_backward(dy, x)

        def numpy_version():
            flat = x.reshape(n, h * w, c)
            first = flat.argmax(axis=1)
            dx = np.zeros_like(flat)
            np.put_along_axis(dx, first[:, None], dy[:, None], axis=1)
            return flat.max(axis=1), dx

        fns = {"ranvier": ours, "numpy": numpy_version}
        if torch is not None:
            tx, tdy = tensor(torch, nchw(x), True), tensor(torch, dy[:, :, None, None])

            def theirs():  # adaptive max pooling to 1x1: the arg-max rule, as ranvier's
                return torch.autograd.grad(torch.nn.functional.adaptive_max_pool2d(tx, 1), tx, tdy)

            fns["torch"] = theirs
        return fns

    n, h, w, c = SHAPE
    return Case("global_max_pool fwd+bwd", f"N{n} {h}x{w} C{c}", 4.0 * 4.0 * n * h * w * c, BYTES, build, TARGETS)


def cases(quick: bool):
    return [_case("max"), _case("avg"), _case_global_max()]

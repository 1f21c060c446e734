"""linear + bias + relu, forward and forward+backward, at the MLP's layer
shapes. FLOPs: 2 B I O forward, 6 B I O forward+backward (dx and dw)."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import FLOPS, Case, Target, randn, tensor

SHAPES = ((64, 784, 128), (256, 784, 128), (64, 128, 10), (256, 128, 10))  # batch, in, out
TARGETS = (Target("numpy", 1.5), Target("torch", 1.5))
# One row (a batch-1 dense layer): the matrix-vector path, bound by reading w, where NumPy's BLAS and
# PyTorch reach the same bound; the first Dense of the seed CNN after a wider Flatten.
ONE_ROW_SHAPES = ((1, 1600, 128), (1, 128, 10))
ONE_ROW_TARGETS = (Target("torch", 1.0),)


def _numpy_forward(x, w, b):
    return np.maximum(x @ w + b, 0)


def _numpy_forward_backward(x, w, b, dy):
    y = np.maximum(x @ w + b, 0)
    g = dy * (y > 0)
    return g @ w.T, x.T @ g, g.sum(axis=0)


def _case(batch: int, n_in: int, n_out: int, backward: bool, targets=TARGETS) -> Case:
    def build(torch):
        rng = np.random.default_rng(0)
        x, w, b = randn(rng, batch, n_in), randn(rng, n_in, n_out, scale=n_in**-0.5), randn(rng, n_out)
        dy = randn(rng, batch, n_out)
        if backward:

            def ours():
                y = ops.linear(x, w, b, activation="relu")
                return ops.linear_backward(dy, x, w, activation="relu", y=y)

            fns = {"ranvier": ours, "numpy": lambda: _numpy_forward_backward(x, w, b, dy)}
        else:
            fns = {"ranvier": lambda: ops.linear(x, w, b, activation="relu"), "numpy": lambda: _numpy_forward(x, w, b)}
        if torch is not None:
            F = torch.nn.functional
            tx, tw, tb = (tensor(torch, a, backward) for a in (x, w.T, b))  # weight in torch's (out, in)
            tdy = tensor(torch, dy)
            if backward:

                def theirs():
                    y = F.relu(F.linear(tx, tw, tb))
                    return torch.autograd.grad(y, (tx, tw, tb), tdy)

                fns["torch"] = theirs
            else:
                fns["torch"] = lambda: F.relu(F.linear(tx, tw, tb))
        return fns

    flops = (6.0 if backward else 2.0) * batch * n_in * n_out
    return Case(
        "linear+relu " + ("fwd+bwd" if backward else "fwd"), f"{batch}x{n_in}->{n_out}", flops, FLOPS, build, targets
    )


def cases(quick: bool):
    one_row = [_case(*shape, False, ONE_ROW_TARGETS) for shape in ONE_ROW_SHAPES]
    return [_case(*shape, backward) for backward in (False, True) for shape in SHAPES] + one_row

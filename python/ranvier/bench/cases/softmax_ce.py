"""softmax cross-entropy with integer labels, mean reduction, forward+backward.
Bytes: the logits read twice, dlogits written, the labels read twice."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import BYTES, Case, Target, randn, tensor

SHAPES = ((1024, 1000), (64, 10))  # N, classes
TARGETS = (Target("torch", 1.5),)


def _numpy_forward_backward(logits, labels):
    n = logits.shape[0]
    rows = np.arange(n)
    top = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - top)
    s = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) + top[:, 0] - logits[rows, labels])
    dlogits = e / s
    dlogits[rows, labels] -= 1
    dlogits /= n
    return loss, dlogits


def _case(n: int, classes: int) -> Case:
    def build(torch):
        rng = np.random.default_rng(0)
        logits, labels = randn(rng, n, classes, scale=3.0), rng.integers(0, classes, n)

        def ours():
            ops.softmax_cross_entropy(logits, labels)
            return ops.softmax_cross_entropy_backward(logits, labels)

        fns = {"ranvier": ours, "numpy": lambda: _numpy_forward_backward(logits, labels)}
        if torch is not None:
            tlogits, tlabels = tensor(torch, logits, True), torch.from_numpy(labels)

            def theirs():
                loss = torch.nn.functional.cross_entropy(tlogits, tlabels)
                return torch.autograd.grad(loss, tlogits)

            fns["torch"] = theirs
        return fns

    return Case("softmax_ce fwd+bwd", f"{n}x{classes}", 3 * 4.0 * n * classes + 2 * 8.0 * n, BYTES, build, TARGETS)


def cases(quick: bool):
    return [_case(*shape) for shape in SHAPES]

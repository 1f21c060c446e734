"""Scaled dot-product attention, forward+backward, against PyTorch's SDPA.
FLOPs as flash-attention counts them: 4 B H L^2 D forward (half when causal),
and the backward 2.5 times the forward. NumPy has no meaningful version."""

from __future__ import annotations

import numpy as np

from ranvier import ops
from ranvier.bench.cases.base import FLOPS, Case, Target, randn, tensor

SHAPE = (8, 8, 512, 64)  # B H L D
TARGETS = (Target("torch", 2.0),)


def _case(causal: bool) -> Case:
    b, h, length, d = SHAPE

    def build(torch):
        rng = np.random.default_rng(0)
        q, k, v, dout = (randn(rng, b, h, length, d) for _ in range(4))

        def ours():
            out, lse = ops.attention(q, k, v, causal=causal, return_lse=True)
            return ops.attention_backward(dout, q, k, v, out, lse, causal=causal)

        fns = {"ranvier": ours}
        if torch is not None:
            tq, tk, tv = (tensor(torch, a, True) for a in (q, k, v))
            tdout = tensor(torch, dout)

            def theirs():
                out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=causal)
                return torch.autograd.grad(out, (tq, tk, tv), tdout)

            fns["torch"] = theirs
        return fns

    forward = 4.0 * b * h * length * length * d / (2 if causal else 1)
    shape = f"B{b} H{h} L{length} D{d}" + (" causal" if causal else "")
    return Case("attention fwd+bwd", shape, 3.5 * forward, FLOPS, build, TARGETS)


def cases(quick: bool):
    return [_case(True), _case(False)]

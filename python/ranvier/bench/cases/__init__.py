"""The CPU benchmark cases: one module per kernel family, each with ``cases(quick)``."""

from __future__ import annotations

from dataclasses import replace

from ranvier.bench.cases import (
    activations,
    adam,
    attention,
    conv,
    gemm,
    gru,
    keras_optimizers,
    layer_norm,
    linear,
    lstm,
    pool,
    rmsprop,
    softmax_ce,
    spatial,
)
from ranvier.bench.cases.base import BYTES, FLOPS, Case, Target

FAMILIES = (
    gemm,
    linear,
    conv,
    pool,
    softmax_ce,
    attention,
    lstm,
    gru,
    adam,
    rmsprop,
    activations,
    layer_norm,
    keras_optimizers,
    spatial,
)
SYSTEMS = ("ranvier", "numpy", "torch")

__all__ = ["BYTES", "FLOPS", "FAMILIES", "SYSTEMS", "Case", "Target", "select"]


def select(quick: bool, filters=(), shapes=()) -> list:
    """Every case (fewer shapes when quick) whose op or family name contains one of ``filters``
    and whose shape one of ``shapes`` (empty: all)."""
    chosen = []
    for module in FAMILIES:
        family = module.__name__.rsplit(".", 1)[1]
        chosen += [c for c in (replace(c, family=family) for c in module.cases(quick)) if c.matches(filters, shapes)]
    return chosen

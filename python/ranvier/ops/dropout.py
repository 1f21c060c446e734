"""Inverted dropout with a reproducible, counter-based mask."""
from __future__ import annotations

import numpy as np

from ranvier import backend
from ranvier.ops import _checks

__all__ = ["dropout", "dropout_backward"]

_SEEDS = 2**64


def _rate(op: str, rate) -> float:
    return _checks.real(op, "rate", rate, low=0, high=1, high_open=True)


def dropout(x, rate, seed, training: bool = True):
    """Zero each element of x with probability ``rate`` and scale the kept ones
    by 1 / (1 - rate) (inverted dropout): returns (y, mask), mask uint8 of x's
    shape, 1 where kept.

    The mask is a pure function of (seed, flat C-order index): splitmix64 of
    the pair index keyed by the seed (see cpp/include/ranvier/dropout.h and
    ``ranvier.reference.dropout``). The same seed and shape give the same mask
    for any thread count or instruction set; another seed gives another mask.
    seed is an integer in [0, 2**64).

    With ``training=False`` or ``rate == 0`` dropout is the identity and
    returns ``(x, None)``: x itself, not a copy (as Keras and PyTorch do in
    inference), and no mask; ``dropout_backward(dy, None, rate)`` returns dy.
    """
    op = "dropout"
    rate = _rate(op, rate)
    seed = _checks.integer(op, "seed", seed, low=0, high=_SEEDS)
    x = _checks.float32(op, "x", x)
    if not training or rate == 0.0:
        return x, None
    x = _checks.contiguous(x)
    y = backend.empty_like(x)
    mask = backend.empty(x, x.shape, np.uint8)
    backend.kernels(x).dropout(y, mask, x, rate, seed)
    return y, mask


def dropout_backward(dy, mask, rate):
    """dy * mask / (1 - rate), with the mask that ``dropout`` returned; a mask
    of None (dropout was the identity) returns dy itself."""
    op = "dropout_backward"
    rate = _rate(op, rate)
    dy = _checks.float32(op, "dy", dy)
    if mask is None:
        return dy
    mask = _checks.as_array(op, "mask", mask)
    if mask.dtype != np.uint8:
        raise TypeError(f"[{op}] mask must be the uint8 mask that dropout returned, got {_checks.describe(mask)}")
    if mask.shape != dy.shape:
        raise ValueError(
            f"[{op}] mask and dy must have the same shape, got {tuple(mask.shape)} and {tuple(dy.shape)}"
        )
    _checks.same_device(op, dy=dy, mask=mask)
    dy = _checks.contiguous(dy)
    dx = backend.empty_like(dy)
    backend.kernels(dy).dropout_backward(dx, dy, _checks.contiguous(mask), rate)
    return dx

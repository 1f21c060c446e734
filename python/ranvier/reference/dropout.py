"""Dropout, plainly, with the same counter-based mask as the kernels."""

from __future__ import annotations

import numpy as np

__all__ = ["dropout", "dropout_backward"]

_GOLDEN = 0x9E3779B97F4A7C15


def _mix64(z):
    """splitmix64's output function on uint64 arrays (arithmetic wraps mod 2**64)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def keep_mask(n, rate, seed):
    """uint8 (n,): 1 where element i survives. One 64-bit hash per pair of
    elements: z = mix64(key + golden * (i // 2)), key = mix64(seed + golden);
    element i draws the low 32 bits of z when i is even, the high ones when odd,
    and is kept when they are >= floor(rate * 2**32)."""
    key = _mix64(np.array([(seed + _GOLDEN) % 2**64], dtype=np.uint64))
    pairs = np.arange((n + 1) // 2, dtype=np.uint64)
    z = _mix64(key + np.uint64(_GOLDEN) * pairs)
    draws = np.stack([z & np.uint64(0xFFFFFFFF), z >> np.uint64(32)], axis=1).reshape(-1)[:n]
    return (draws >= np.uint64(int(rate * 2.0**32))).astype(np.uint8)


def dropout(x, rate, seed, training=True):
    if not training or rate == 0:
        return x, None
    mask = keep_mask(x.size, rate, seed).reshape(x.shape)
    return x * mask / (1 - rate), mask


def dropout_backward(dy, mask, rate):
    return dy if mask is None else dy * mask / (1 - rate)

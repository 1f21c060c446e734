"""Inverted dropout with a reproducible, counter-based mask."""

from __future__ import annotations

from ranvier import backend

__all__ = ["dropout", "dropout_backward"]


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
    return backend.kernels(x).dropout(x, rate, seed, training)


def dropout_backward(dy, mask, rate):
    """dy * mask / (1 - rate), with the mask that ``dropout`` returned; a mask
    of None (dropout was the identity) returns dy itself."""
    return backend.kernels(dy).dropout_backward(dy, mask, rate)

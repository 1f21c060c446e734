"""Inverted dropout on Tensors."""

from __future__ import annotations

from ranvier import ops, utils
from ranvier.functional.arithmetic import as_tensor
from ranvier.tensor import Tensor, make_result


def dropout(x, rate: float, training: bool = True, seed: int | None = None) -> Tensor:
    """Inverted dropout: zero each element with probability rate, scale the rest by 1 / (1 - rate).

    The mask comes from ``seed`` (default: drawn from ``ranvier.utils``, so
    ``set_seed`` makes training reproducible). Identity when not training.
    """
    x = as_tensor(x)
    if not training or rate == 0:
        return x
    y, mask = ops.dropout(x.data, rate, utils.next_seed() if seed is None else seed, training=True)
    return make_result(y, (x,), lambda g: (ops.dropout_backward(g, mask, rate),))

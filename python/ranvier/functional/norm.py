"""Layer normalisation, embedding lookup and dropout on Tensors."""
from __future__ import annotations

from ranvier import ops, utils
from ranvier.functional.arithmetic import as_tensor
from ranvier.tensor import Tensor, make_result


def layer_norm(x, gamma, beta, eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) * gamma + beta over the last axis."""
    x, gamma, beta = as_tensor(x), as_tensor(gamma), as_tensor(beta)
    y, mean, rstd = ops.layer_norm(x.data, gamma.data, beta.data, eps=eps, return_stats=True)
    return make_result(y, (x, gamma, beta), lambda g: ops.layer_norm_backward(g, x.data, gamma.data, mean, rstd))


def embedding(ids, table) -> Tensor:
    """Rows of table (V, D) picked by integer ids (...) -> (..., D); repeated ids accumulate gradient."""
    ids, table = as_tensor(ids), as_tensor(table)
    y = ops.embedding(ids.data, table.data)
    return make_result(y, (table,), lambda g: (ops.embedding_backward(g, ids.data, table.shape[0]),))


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

"""Embedding lookup and its backward (a scatter-add)."""
from __future__ import annotations

import numpy as np

from ranvier import backend
from ranvier.ops import _checks

__all__ = ["embedding", "embedding_backward"]


def _ids(op: str, ids, num_embeddings: int):
    """ids of any integer dtype and shape, checked to lie in [0, num_embeddings):
    returns them as a flat contiguous int64 array (the kernels' index type) and
    their shape."""
    ids = _checks.as_array(op, "ids", ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"[{op}] ids must be an integer array, got {_checks.describe(ids)}")
    xp = backend.array_module(ids)
    if ids.size > 0:
        # one device-to-host copy for both bounds when ids are on the GPU
        low, high = xp.stack((ids.min(), ids.max())).tolist()
        if low < 0 or high >= num_embeddings:
            bad = low if low < 0 else high
            raise ValueError(
                f"[{op}] ids must be in [0, {num_embeddings}) (the rows of the table), got {bad}"
            )
    return xp.ascontiguousarray(ids.reshape(-1), dtype=np.int64), tuple(ids.shape)


def embedding(ids, table):
    """table[ids]: ids (...) of any integer dtype, table (V, D) -> (..., D).

    Every id must be in [0, V); a negative or too large id is a ValueError
    (no wrap-around as in NumPy indexing).
    """
    op = "embedding"
    table = _checks.contiguous(_checks.float32(op, "table", table, layout="(V, D)", ndim=2))
    flat, shape = _ids(op, ids, table.shape[0])
    _checks.same_device(op, ids=flat, table=table)
    y = backend.empty(table, (flat.shape[0], table.shape[1]))
    backend.kernels(table).embedding(y, flat, table)
    return y.reshape(shape + (table.shape[1],))


def embedding_backward(dy, ids, num_embeddings: int):
    """dtable (V, D) with V = num_embeddings: the rows of dy (..., D) added at
    their ids (...); repeated ids accumulate. Deterministic: the sums run in the
    order of ids whatever the thread count."""
    op = "embedding_backward"
    num_embeddings = _checks.integer(op, "num_embeddings", num_embeddings, low=0)
    dy = _checks.float32(op, "dy", dy)
    flat, shape = _ids(op, ids, num_embeddings)
    if dy.ndim != len(shape) + 1 or tuple(dy.shape[:-1]) != shape:
        raise ValueError(f"[{op}] dy must be ids.shape + (D,) = {shape} + (D,) float32, got {_checks.describe(dy)}")
    _checks.same_device(op, dy=dy, ids=flat)
    d = dy.shape[-1]
    dtable = backend.empty(dy, (num_embeddings, d))
    backend.kernels(dy).embedding_backward(dtable, _checks.contiguous(dy.reshape(-1, d)), flat)
    return dtable

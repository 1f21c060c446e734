"""Embedding lookup and its backward (a scatter-add)."""

from __future__ import annotations

from ranvier import backend

__all__ = ["embedding", "embedding_backward"]


def embedding(ids, table):
    """table[ids]: ids (...) of any integer dtype, table (V, D) -> (..., D).

    Every id must be in [0, V); a negative or too large id is a ValueError
    (no wrap-around as in NumPy indexing).
    """
    return backend.kernels(table).embedding(ids, table)


def embedding_backward(dy, ids, num_embeddings: int):
    """dtable (V, D) with V = num_embeddings: the rows of dy (..., D) added at
    their ids (...); repeated ids accumulate. Deterministic: the sums run in the
    order of ids whatever the thread count."""
    return backend.kernels(dy).embedding_backward(dy, ids, num_embeddings)

"""Keeping a model's weights the same on every rank: checked structure, broadcast, checksums."""

from __future__ import annotations

import zlib

import numpy as np

from ranvier.device import to_host
from ranvier.distributed import collectives


def _describe(named_weights: list) -> list:
    return [(path, tuple(w.shape), w.dtype.str) for path, w in named_weights]


def _layout(described: list) -> list:
    """What must match: shapes and dtypes in order (layer names may differ: they count the layers built)."""
    return [(shape, dtype) for _, shape, dtype in described]


def require_same_structure(op: str, named_weights: list) -> None:
    """Raise the same ValueError on every rank when the ranks' models differ in their weights' names or shapes."""
    mine = _describe(named_weights)
    everyone = collectives.communicator().allgather(mine)
    for r, theirs in enumerate(everyone):
        if _layout(theirs) != _layout(everyone[0]):
            raise ValueError(
                f"[{op}] the model differs across ranks: rank 0 has {_summary(everyone[0])}, "
                f"rank {r} has {_summary(theirs)}; first difference: {_first_difference(everyone[0], theirs)}. "
                "Build the same model on every rank."
            )


def _summary(described: list) -> str:
    return f"{len(described)} weights ({sum(int(np.prod(s)) for _, s, _ in described):,} values)"


def _first_difference(a: list, b: list) -> str:
    for left, right in zip(a, b):
        if left[1:] != right[1:]:
            return f"{left[0]} {left[1]} on rank 0 vs {right[0]} {right[1]}"
    longer, side = (a, "rank 0") if len(a) > len(b) else (b, "the other rank")
    return f"{longer[min(len(a), len(b))][0]} only on {side}"


def broadcast_weights(weights: list, root: int = 0) -> None:
    """Rank ``root``'s values into every weight (in place: optimizers keep their references)."""
    for w in weights:
        collectives.broadcast(w.data, root)


def checksums(weights: list) -> np.ndarray:
    """A CRC-32 of each weight's bytes: equal exactly when the values are bit for bit equal (~1 ms per MB)."""
    return np.array([zlib.crc32(np.ascontiguousarray(to_host(w.data)).data) for w in weights], np.int64)


def differing(weights: list) -> list:
    """The indices of the weights whose bits differ between ranks (the same list on every rank)."""
    mine = checksums(weights)
    everyone = collectives.all_gather(mine[None]) if len(mine) else np.zeros((1, 0), np.int64)
    return [int(i) for i in np.flatnonzero((everyone != everyone[0]).any(axis=0))]


def require_identical(op: str, named_weights: list) -> None:
    """Raise on every rank when any weight differs between ranks by even one bit."""
    bad = differing([w for _, w in named_weights])
    if bad:
        names = ", ".join(named_weights[i][0] for i in bad[:5])
        raise RuntimeError(
            f"[{op}] weights differ across ranks after training started ({len(bad)} of {len(named_weights)}: "
            f"{names}); something changed them on one rank only"
        )


def average_differing(weights: list) -> None:
    """Average, over the ranks, the weights that differ (a BatchNorm's moving statistics), then make them
    bit-identical; weights already equal everywhere are left as they are."""
    for i in differing(weights):
        collectives.all_reduce(weights[i].data, "mean")
        collectives.broadcast(weights[i].data, 0)

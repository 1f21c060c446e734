"""``DistributedSampler``: each rank's share of a data set's indices (PyTorch's semantics)."""

from __future__ import annotations

import numpy as np

from ranvier.distributed import collectives


class DistributedSampler:
    """The indices this rank trains on in one epoch: ``for i in sampler`` or ``np.asarray(sampler)``.

    Every rank draws the same permutation (from ``seed`` and the epoch set
    by ``set_epoch``) and takes every ``world_size``-th index from its rank
    on. So that all ranks make the same number of steps, the permutation is
    padded by wrapping around to a multiple of ``world_size`` (a few samples
    seen twice per epoch), or with ``drop_last`` cut to one (a few unseen).
    """

    def __init__(
        self,
        num_samples: int,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ):
        self.num_replicas = collectives.world_size() if num_replicas is None else int(num_replicas)
        self.rank = collectives.rank() if rank is None else int(rank)
        if not 0 <= self.rank < self.num_replicas:
            raise ValueError(f"[DistributedSampler] rank must be in [0, {self.num_replicas}), got {self.rank}")
        if num_samples < 0:
            raise ValueError(f"[DistributedSampler] num_samples must be >= 0, got {num_samples}")
        self.num_samples_total, self.shuffle, self.seed, self.drop_last = int(num_samples), shuffle, seed, drop_last
        self.epoch = 0
        if drop_last:
            self.per_rank = self.num_samples_total // self.num_replicas
        else:
            self.per_rank = -(-self.num_samples_total // self.num_replicas)

    def set_epoch(self, epoch: int) -> None:
        """A new shuffle for each epoch (the same on every rank)."""
        self.epoch = int(epoch)

    def indices(self) -> np.ndarray:
        n = self.num_samples_total
        order = np.random.default_rng((self.seed, self.epoch)).permutation(n) if self.shuffle else np.arange(n)
        total = self.per_rank * self.num_replicas
        if total > n:
            order = np.resize(order, total)  # wraps around: np.resize repeats the array
        return order[:total][self.rank :: self.num_replicas]

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.per_rank

    def __array__(self, dtype=None, copy=None):
        return self.indices() if dtype is None else self.indices().astype(dtype)

"""Training strategies: what ``Model.fit`` asks at each step of its loop.

``Strategy`` is one process (each hook returns what it was given, so ``fit``
reads as a plain loop); ``DataParallel`` is the same training on every MPI
rank at once:

    model.compile(optimizer="adam", loss=..., distribute=ranvier.distributed.DataParallel())
    model.fit(x, y, batch_size=64)      # mpiexec -n 4 python train.py

The strategy is a compile argument, not a ``with`` scope, because it
belongs to the model's training as its optimizer and loss do: it is set
once, travels with the model into every ``fit``, and needs no global state.

``batch_size`` is the global batch, as in Keras' MirroredStrategy: each step,
rank 0's shuffled batch is split into near-equal pieces, one per rank, and
each rank's mean gradient is weighted by its share of the batch before the
sum, so the update is the one a single process makes on the whole batch,
for any N and any number of ranks (a piece may be empty: that rank adds
zeros). No sample is dropped or repeated. Layers see only their piece:
BatchNormalization normalises with the piece's statistics (as PyTorch DDP
without SyncBatchNorm) and its moving statistics are averaged over the
ranks at the end of every epoch.
"""

from __future__ import annotations

import numpy as np

from ranvier import callbacks as callbacks_mod

# Callbacks that write files: rank 0's alone (every rank sees the same logs and weights).
_RANK_0_ONLY = (callbacks_mod.ModelCheckpoint, callbacks_mod.CSVLogger, callbacks_mod.TensorBoard)


class Strategy:
    """One process: every hook hands back what it was given."""

    def begin_fit(self, model, callbacks: list, verbose: int):
        """(callbacks, verbose) for this process, once the model is built and bound to its optimizer."""
        return callbacks, verbose

    def agree(self, value):
        """Rank 0's ``value`` (an epoch's shuffle, the epoch's logs)."""
        return value

    def shard_batch(self, indices):
        """This process's part of a batch's sample indices."""
        return indices

    def train_step(self, model, x, y, sample_weight=None) -> dict:
        # a train_step(self, x, y) overridden before sample weights existed still works without them
        return model.train_step(x, y) if sample_weight is None else model.train_step(x, y, sample_weight)

    def end_epoch(self, model, totals: dict, seen: int):
        """(totals, seen): each log summed over the epoch's samples (and the count), over every process."""
        return totals, seen

    def sum_metric_states(self, metrics: list) -> None:
        """Each metric's state summed over every process (its epoch-level counts)."""


class DataParallel(Strategy):
    """Data-parallel training over the MPI ranks (see the module docstring).

    At the start of ``fit`` the ranks check they built the same model (a clear
    error on every rank if not) and take rank 0's weights; gradients are
    averaged in buckets of ``bucket_bytes`` while backward runs; logs are
    averaged over every sample of every rank; progress, ModelCheckpoint, CSVLogger
    and TensorBoard run on rank 0 only; callbacks see the same logs everywhere, so
    EarlyStopping stops every rank at the same epoch. ``verify_weights=True``
    also checks at each epoch's end that the weights are bit-identical.
    ``overlap``: reduce the buckets while backward runs (True), when it ends
    (False), or "auto" (overlapped unless every core of a one-machine run
    computes; ``reducer.resolve_overlap``).
    """

    def __init__(self, bucket_bytes: int | None = None, verify_weights: bool = False, overlap="auto"):
        from ranvier.distributed import collectives, reducer

        collectives.init()
        self.rank, self.world_size = collectives.rank(), collectives.world_size()
        self.bucket_bytes = reducer.DEFAULT_BUCKET_BYTES if bucket_bytes is None else int(bucket_bytes)
        self.verify_weights = bool(verify_weights)
        reducer.resolve_overlap(overlap, on_gpu=False)  # a bad value refused here, not at fit
        self.overlap = overlap
        self.reducer = None
        self._batch_size = 0

    def begin_fit(self, model, callbacks: list, verbose: int):
        from ranvier.distributed import reducer, weights

        named = model.named_weights()
        weights.require_same_structure("DataParallel", named)
        weights.broadcast_weights([w for _, w in named])
        weights.require_identical("DataParallel", named)
        params = model.trainable_weights
        if self.reducer is None or [id(p) for b in self.reducer.buckets for p in b.params] != [
            id(p) for p in reversed(params)
        ]:
            if self.reducer is not None:
                self.reducer.close()
            self.reducer = reducer.GradientReducer(params, self.bucket_bytes, self.overlap)
        if self.rank == 0:
            return callbacks, verbose
        return [cb for cb in callbacks if not isinstance(cb, _RANK_0_ONLY)], 0

    def agree(self, value):
        from ranvier.distributed import collectives

        if isinstance(value, np.ndarray):
            return collectives.broadcast(value, 0)
        return collectives.communicator().bcast(value, root=0)

    def shard_batch(self, indices):
        self._batch_size = len(indices)
        return np.array_split(indices, self.world_size)[self.rank]

    def train_step(self, model, x, y, sample_weight=None) -> dict:
        from ranvier.data.structure import num_samples

        count = num_samples(x)
        self.reducer.arm(count / self._batch_size)
        if count:
            return super().train_step(model, x, y, sample_weight)
        model.optimizer.zero_grad()  # an empty piece: add zeros to the others' gradients, then step with them
        self.reducer.finish()
        model.optimizer.step()
        return {}

    def end_epoch(self, model, totals: dict, seen: int):
        from ranvier.distributed import collectives, weights

        keys = self.agree(list(totals))
        sums = np.array([totals.get(k, 0.0) for k in keys] + [seen], np.float64)
        collectives.all_reduce(sums)
        weights.average_differing(model.non_trainable_weights)
        if self.verify_weights:
            weights.require_identical("DataParallel", model.named_weights())
        return dict(zip(keys, sums[:-1].tolist())), int(sums[-1])

    def sum_metric_states(self, metrics: list) -> None:
        """Every rank's counts added up, so precision or AUC is the whole epoch's on every rank."""
        from ranvier.distributed import collectives

        everyone = collectives.communicator().allgather([m.variables for m in metrics])
        for i, metric in enumerate(metrics):
            metric.sum_states([states[i] for states in everyone])

"""``ranvier.data.Dataset``: an input pipeline over arrays, in tf.data's words.

    ds = (ranvier.data.Dataset.from_tensor_slices((x, y))
          .shuffle(seed=0)
          .batch(64, drop_remainder=True)
          .prefetch(2))
    model.fit(ds, epochs=5)

``from_tensor_slices`` takes an array or a (nested) tuple/list/dict of arrays
with the same first axis, and yields that structure sample by sample or, after
``batch``, batch by batch; a ``(x, y)`` or ``(x, y, sample_weight)`` tuple is
what ``fit`` reads. Each pass (each epoch) draws a new shuffle: from
``ranvier.utils.rng()`` (so ``ranvier.utils.set_seed`` fixes it), or from
``seed`` when given. ``shuffle(buffer_size)`` shuffles within a window of that
many samples, as tf.data; without it (or with one at least the data's size)
the whole order is drawn at once. ``prefetch(n)`` prepares up to ``n``
batches in a background thread while the model trains.

The pipeline is slicing, shuffling, batching and prefetching, in that
order; each method returns a new Dataset.
"""

from __future__ import annotations

import copy

import numpy as np

from ranvier import utils
from ranvier.data import prefetch as prefetch_mod
from ranvier.data import structure
from ranvier.device import is_gpu_array
from ranvier.tensor import Tensor

AUTOTUNE = -1
_AUTOTUNE_DEPTH = 2


def _leaf(a, op: str):
    if isinstance(a, Tensor):
        a = a.data
    a = a if is_gpu_array(a) else np.asarray(a)
    if a.ndim == 0:
        raise ValueError(f"[{op}] each array needs a first (sample) axis, got a scalar")
    return a


def _positive_int(value, op: str, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"[{op}] {what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class Dataset:
    def __init__(self, tensors, count: int):
        self._tensors = tensors
        self._count = count
        self._shuffle_buffer: int | None = None
        self._shuffle_rng: np.random.Generator | None = None
        self._shuffle_seed: int | None = None
        self._shuffled = False
        self._reshuffle = True
        self._batch_size: int | None = None
        self._drop_remainder = False
        self._prefetch = 0

    @classmethod
    def from_tensor_slices(cls, tensors) -> Dataset:
        op = "Dataset.from_tensor_slices"
        tensors = structure.map_leaves(lambda a: _leaf(a, op), tensors)
        counts = {int(a.shape[0]) for a in structure.leaves(tensors)}
        if len(counts) != 1:
            raise ValueError(
                f"[{op}] every array needs the same number of samples (first axis), got {structure.describe(tensors)}"
            )
        return cls(tensors, counts.pop())

    def _then(self, op: str, **changes) -> Dataset:
        if self._prefetch:
            raise ValueError(f"[Dataset.{op}] prefetch comes last: call {op} before prefetch")
        new = copy.copy(self)
        new.__dict__.update(changes)
        return new

    def shuffle(self, buffer_size: int | None = None, seed: int | None = None, reshuffle_each_iteration=True):
        if self._batch_size is not None:
            raise ValueError("[Dataset.shuffle] shuffle the samples before batching: call shuffle before batch")
        if buffer_size is not None:
            buffer_size = _positive_int(buffer_size, "Dataset.shuffle", "buffer_size")
        return self._then(
            "shuffle",
            _shuffled=True,
            _shuffle_buffer=buffer_size,
            _shuffle_rng=None if seed is None else np.random.default_rng(seed),
            _shuffle_seed=seed,
            _reshuffle=bool(reshuffle_each_iteration),
        )

    def batch(self, batch_size: int, drop_remainder: bool = False) -> Dataset:
        if self._batch_size is not None:
            raise ValueError("[Dataset.batch] this Dataset is batched already")
        batch_size = _positive_int(batch_size, "Dataset.batch", "batch_size")
        return self._then("batch", _batch_size=batch_size, _drop_remainder=bool(drop_remainder))

    def prefetch(self, buffer_size: int = AUTOTUNE) -> Dataset:
        if buffer_size != AUTOTUNE:
            buffer_size = _positive_int(buffer_size, "Dataset.prefetch", "buffer_size")
        new = copy.copy(self)
        new._prefetch = _AUTOTUNE_DEPTH if buffer_size == AUTOTUNE else buffer_size
        return new

    @property
    def batched(self) -> bool:
        return self._batch_size is not None

    def cardinality(self) -> int:
        """The number of items one pass yields: batches once batched, else samples."""
        if self._batch_size is None:
            return self._count
        full, rest = divmod(self._count, self._batch_size)
        return full + (1 if rest and not self._drop_remainder else 0)

    def __len__(self) -> int:
        return self.cardinality()

    def _order(self) -> np.ndarray:
        n = self._count
        if not self._shuffled:
            return np.arange(n)
        if self._shuffle_rng is None:
            rng = utils.rng()
        elif self._reshuffle:
            rng = self._shuffle_rng
        else:
            rng = np.random.default_rng(self._shuffle_seed)
        if self._shuffle_buffer is None or self._shuffle_buffer >= n:
            return rng.permutation(n)
        return _window_shuffle(n, self._shuffle_buffer, rng)

    def _items(self, order):
        if self._batch_size is None:
            for i in order:
                yield structure.take(self._tensors, int(i))
            return
        for start in range(0, self.cardinality() * self._batch_size, self._batch_size):
            yield structure.take(self._tensors, order[start : start + self._batch_size])

    def __iter__(self):
        order = self._order()  # drawn here, in the caller's thread: the library's generator is not shared
        if self._prefetch:
            return prefetch_mod.prefetch(self._items(order), self._prefetch)
        return self._items(order)

    def __repr__(self) -> str:
        parts = [f"{self._count} samples of {structure.describe(self._tensors)}"]
        if self._shuffled:
            parts.append("shuffled")
        if self._batch_size is not None:
            parts.append(f"batch {self._batch_size}" + (" (drop remainder)" if self._drop_remainder else ""))
        if self._prefetch:
            parts.append(f"prefetch {self._prefetch}")
        return f"<Dataset: {', '.join(parts)}>"


def _window_shuffle(n: int, window: int, rng) -> np.ndarray:
    """tf.data's buffered shuffle: each output is a random pick from the next ``window`` samples."""
    buffer = list(range(min(window, n)))
    order = []
    for incoming in range(len(buffer), n):
        j = int(rng.integers(len(buffer)))
        order.append(buffer[j])
        buffer[j] = incoming
    order.extend(buffer[j] for j in rng.permutation(len(buffer)))
    return np.asarray(order, dtype=np.int64)

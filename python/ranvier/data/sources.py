"""What ``fit``/``evaluate``/``predict`` take as data, read as one stream of ``(x, y, sample_weight)`` batches.

``data_source`` recognises the form (Keras 3's): arrays (or nested lists/dicts
of them) with ``batch_size``; a ``ranvier.data.Dataset``; a ``PyDataset`` (or
any batch-by-index object); a list of batches; any other iterable or
iterator, generators included. ``EpochIterator`` cuts the stream into epochs
with Keras' ``steps_per_epoch`` semantics.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np

from ranvier import utils
from ranvier.data import prefetch, structure
from ranvier.data.dataset import Dataset
from ranvier.data.py_dataset import is_py_dataset
from ranvier.device import to_device


def unpack_batch(batch, op: str):
    """``(x, y, sample_weight)`` from an item a data set yields: x, (x,), (x, y) or (x, y, sample_weight)."""
    if isinstance(batch, list):
        batch = tuple(batch)  # a yielded list is read as a tuple, as Keras does
    if not isinstance(batch, tuple):
        return batch, None, None
    if len(batch) not in (1, 2, 3):
        raise ValueError(
            f"[{op}] each batch must be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(batch)} "
            "items (pack several inputs as a list or dict inside x)"
        )
    return tuple(batch) + (None,) * (3 - len(batch))


def class_weights_for(y, class_weight: dict, op: str) -> np.ndarray:
    """Keras' per-sample weights from ``class_weight``: class index from integer labels, (N, 1) labels or
    one-hot/probability rows (argmax); a class missing from the dict weighs 1."""
    if structure.is_nested(y):
        raise ValueError(f"[{op}] class_weight needs a single output's targets; give sample_weight for several")
    labels = structure.to_host_array(y)
    if labels.ndim > 1:
        labels = labels[..., 0] if labels.shape[-1] == 1 else np.argmax(labels, axis=-1)
    labels = np.round(labels).astype(np.int64)
    table = {int(k): float(v) for k, v in class_weight.items()}
    return np.array([table.get(int(c), 1.0) for c in labels.reshape(-1)], np.float32).reshape(labels.shape)


def check_class_weight(class_weight, op: str) -> None:
    if class_weight is None:
        return
    if not isinstance(class_weight, dict) or not class_weight:
        raise TypeError(f"[{op}] class_weight must be a non-empty dict {{class index: weight}}, got {class_weight!r}")
    for k, v in class_weight.items():
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"[{op}] class_weight keys must be class indices (ints >= 0), got {k!r}")
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"[{op}] class_weight[{k}] must be a number, got {type(v).__name__}")


class ArraySource:
    """Arrays already on the model's device, batched by index: the shuffle and each batch's indices go
    through the strategy (rank 0's order, this rank's piece), as data-parallel training needs."""

    def __init__(self, x, y, sample_weight, batch_size: int, shuffle: bool, strategy):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size, self.shuffle, self.strategy = batch_size, shuffle, strategy
        self.count = structure.num_samples(x)
        self.device = structure.device_of_leaves(x)
        self.num_batches = -(-self.count // batch_size)

    def batches(self):
        n = self.count
        order = self.strategy.agree(utils.rng().permutation(n) if self.shuffle else np.arange(n))
        for step in range(self.num_batches):
            piece = self.strategy.shard_batch(order[step * self.batch_size : (step + 1) * self.batch_size])
            idx = to_device(piece, self.device)
            yield structure.take(self.x, idx), structure.take(self.y, idx), structure.take(self.sample_weight, idx)

    def on_epoch_end(self) -> None: ...


class IterableSource:
    """A Dataset, a list of batches, or any iterable: a new pass each time (a generator has only one)."""

    def __init__(self, data, op: str):
        self.data, self.op = data, op
        self.num_batches = len(data) if isinstance(data, (Dataset, list, tuple)) else None
        if isinstance(data, Dataset) and not data.batched:
            raise ValueError(f"[{op}] the Dataset yields single samples: call .batch(batch_size) on it first")

    def batches(self):
        return iter(self.data)

    def on_epoch_end(self) -> None: ...


class PyDatasetSource:
    """Batches by index, loaded by the data set's worker threads ahead of the loop (see PyDataset)."""

    def __init__(self, data, shuffle: bool, op: str):
        self.data, self.shuffle, self.op = data, shuffle, op
        workers = getattr(data, "workers", 1)
        if getattr(data, "use_multiprocessing", False):
            raise ValueError(
                f"[{op}] {type(data).__name__} asks for use_multiprocessing=True: ranvier loads batches in "
                "threads only (workers=N); set use_multiprocessing=False"
            )
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ValueError(f"[{op}] {type(data).__name__}.workers must be an integer >= 0, got {workers!r}")
        self.workers = workers
        self.queue_size = max(int(getattr(data, "max_queue_size", 10)), 1)
        self.num_batches = len(data)

    def batches(self):
        hook = getattr(self.data, "on_epoch_begin", None)
        if callable(hook):
            hook()
        order = utils.rng().permutation(self.num_batches) if self.shuffle else range(self.num_batches)
        if self.workers == 0:
            return (self.data[int(i)] for i in order)
        return prefetch.ordered_map(lambda i: self.data[int(i)], order, self.workers, self.queue_size)

    def on_epoch_end(self) -> None:
        hook = getattr(self.data, "on_epoch_end", None)
        if callable(hook):
            hook()


def is_list_of_batches(x) -> bool:
    """A list whose items are (x, y) or (x, y, sample_weight) tuples."""
    return isinstance(x, list) and len(x) > 0 and all(isinstance(b, tuple) and len(b) in (2, 3) for b in x)


def is_stream(x) -> bool:
    """Data that yields its own batches (so batch_size, y and sample_weight do not apply)."""
    if isinstance(x, Dataset) or is_py_dataset(x) or is_list_of_batches(x):
        return True
    if structure.is_array(x) or isinstance(x, (list, tuple, dict, str, bytes)):
        return False
    return hasattr(x, "__iter__") or hasattr(x, "__next__")


def kind_of(x) -> str:
    """What a stream is, with its article, for error messages."""
    if isinstance(x, Dataset):
        return "a ranvier.data.Dataset"
    if is_py_dataset(x):
        return f"a PyDataset ({type(x).__name__})"
    if is_list_of_batches(x):
        return "a list of batches"
    if inspect.isgenerator(x):
        return "a generator"
    return f"{'an iterator' if hasattr(x, '__next__') else 'an iterable'} ({type(x).__name__})"


def stream_source(x, shuffle: bool, op: str):
    if is_py_dataset(x):
        return PyDatasetSource(x, shuffle, op)
    if not hasattr(x, "__iter__"):
        raise TypeError(f"[{op}] x is a {type(x).__name__} that cannot be iterated")
    return IterableSource(x, op)


class EpochIterator:
    """Cuts a source's batches into epochs, with Keras 3's semantics:

    - without ``steps_per_epoch`` an epoch is one pass over the source (a generator's first pass is its
      whole life: a later epoch that gets no batch at all warns and stops training);
    - with ``steps_per_epoch`` an epoch is that many batches, the next epoch going on where this one
      stopped; a source with a known length starts a new pass once it is used up, and an epoch cut short
      by the end of the data warns ("ran out of data").
    """

    def __init__(self, source, steps_per_epoch: int | None, op: str):
        self.source, self.steps_per_epoch, self.op = source, steps_per_epoch, op
        self._pass = None
        self._taken = 0
        self._pushed = None  # a batch read ahead by peek, given first by the next epoch
        self._fresh = False  # the pass was started by peek: the next epoch continues it
        self.ran_dry = False  # the last epoch got no batch at all

    @property
    def steps(self) -> int | None:
        """Batches per epoch, when known (the progress bar's total)."""
        if self.steps_per_epoch is not None:
            if self.source.num_batches is not None:
                return min(self.steps_per_epoch, self.source.num_batches)
            return self.steps_per_epoch
        return self.source.num_batches

    def _end_pass(self) -> None:
        if self._pass is not None and hasattr(self._pass, "close"):
            self._pass.close()  # a prefetching pass stops its threads
        self._pass = None
        self._taken = 0
        self.source.on_epoch_end()

    def peek(self):
        """The first batch, read ahead (to build a model from it), or None when the data holds none."""
        if self._pushed is None:
            if self._pass is None:
                self._pass, self._taken, self._fresh = iter(self.source.batches()), 0, True
            try:
                self._pushed = next(self._pass)
            except StopIteration:
                return None
        return self._pushed

    def _next(self):
        if self._pushed is not None:
            batch, self._pushed = self._pushed, None
            return batch
        return next(self._pass)

    def epoch(self):
        known = self.source.num_batches
        if self._pass is None or (self.steps_per_epoch is None and not self._fresh):
            if self._pass is not None:
                self._end_pass()
            self._pass, self._taken = iter(self.source.batches()), 0
        self._fresh = False
        limit = self.steps_per_epoch if self.steps_per_epoch is not None else float("inf")
        given = 0
        finished = False
        while given < limit:
            if known is not None and self._taken >= known:
                finished = True
                break
            try:
                batch = self._next()
            except StopIteration:
                finished = True
                break
            self._taken += 1
            given += 1
            yield batch
        self.ran_dry = given == 0
        cut_short = finished and self.steps_per_epoch is not None and given < self.steps_per_epoch
        if self.ran_dry or cut_short:
            warnings.warn(
                f"[{self.op}] the data ran out after {given} batch(es) of this epoch"
                + (f" (steps_per_epoch={self.steps_per_epoch})" if self.steps_per_epoch is not None else "")
                + ": a generator makes one pass only; give a data set that can be iterated again (a list, "
                "a ranvier.data.Dataset, a PyDataset) or one that yields at least steps_per_epoch * epochs "
                "batches",
                UserWarning,
                stacklevel=3,
            )
        if finished or self.steps_per_epoch is None:
            self._end_pass()

    def close(self) -> None:
        """Stop a pass left open (its prefetching threads)."""
        if self._pass is not None and hasattr(self._pass, "close"):
            self._pass.close()
        self._pass, self._pushed = None, None

"""``PyDataset``: a data set that hands out whole batches by index (Keras 3's ``keras.utils.PyDataset``).

    class Images(ranvier.data.PyDataset):
        def __init__(self, paths, labels, batch_size, **kwargs):
            super().__init__(**kwargs)          # workers=, use_multiprocessing=, max_queue_size=
            ...
        def __len__(self):                      # the number of batches
            return math.ceil(len(self.paths) / self.batch_size)
        def __getitem__(self, i):               # batch i: x, (x, y) or (x, y, sample_weight)
            ...

    model.fit(Images(paths, labels, 32, workers=4), epochs=10)

As Keras 3, the worker settings belong to the data set, not to ``fit``.
``workers`` threads (default 1) call ``__getitem__`` ahead of the training
loop, up to ``max_queue_size`` batches ahead, while the kernels run; the
batches reach ``fit`` in order. ``workers=0`` loads each batch in the loop's
own thread. Any object with ``__len__`` and ``__getitem__`` (a
``keras.utils.PyDataset`` too) is taken the same way; ``on_epoch_begin`` and
``on_epoch_end`` are called when present.
"""

from __future__ import annotations


class PyDataset:
    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self) -> int:
        return getattr(self, "_workers", 1)

    @property
    def use_multiprocessing(self) -> bool:
        return getattr(self, "_use_multiprocessing", False)

    @property
    def max_queue_size(self) -> int:
        return getattr(self, "_max_queue_size", 10)

    @property
    def num_batches(self) -> int:
        return len(self)

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def on_epoch_begin(self) -> None: ...

    def on_epoch_end(self) -> None: ...


def is_py_dataset(x) -> bool:
    """Keras' test: a PyDataset, or any batch-by-index object (``__len__`` and ``__getitem__``) that is not
    an array, a list, a tuple or a dict."""
    from ranvier.data.structure import is_array

    if isinstance(x, PyDataset):
        return True
    if is_array(x) or isinstance(x, (list, tuple, dict, str, bytes)):
        return False
    return hasattr(x, "__len__") and hasattr(x, "__getitem__")

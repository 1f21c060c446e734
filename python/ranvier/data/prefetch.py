"""Producing batches ahead of the training loop in background threads.

Loading and preparing data (NumPy, file reads) runs while the kernels run;
the loop takes each batch from a bounded queue, in order. An exception in a
worker is raised in the loop with the worker's traceback.
"""

from __future__ import annotations

import collections
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

THREAD_PREFIX = "ranvier-data"

_END = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


def prefetch(iterable, depth: int):
    """The items of ``iterable``, produced by one background thread up to ``depth`` items ahead."""
    items: queue.Queue = queue.Queue(maxsize=max(int(depth), 1))
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in iterable:
                if not put(item):
                    return
            put(_END)
        except BaseException as e:  # handed to the consumer, which raises it
            put(_Failure(e))

    worker = threading.Thread(target=produce, name=f"{THREAD_PREFIX}-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:  # the consumer stopped early (steps_per_epoch, an error): let the worker go
        stop.set()


def ordered_map(fn, indices, workers: int, depth: int):
    """``fn(i)`` for each index in order, computed by ``workers`` threads up to ``depth`` indices ahead."""
    indices = iter(indices)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=THREAD_PREFIX)
    pending: collections.deque = collections.deque()
    try:
        for i in indices:
            pending.append(pool.submit(fn, i))
            if len(pending) >= depth:
                break
        while pending:
            result = pending.popleft().result()  # a worker's exception is raised here, traceback and all
            for i in indices:
                pending.append(pool.submit(fn, i))
                break
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

"""Gradient averaging that overlaps with the backward pass (PyTorch DDP's buckets, Horovod's fusion).

The parameters are grouped, in the order backward finishes them (the
reverse of creation order), into buckets of about ``bucket_bytes``, the
last one small (``bucket_layout``): it can start only when backward ends. As
``Tensor.backward`` reports each parameter's gradient final, it is scaled
into its bucket's flat buffer; a full bucket starts a non-blocking sum over
the ranks (MPI ``Iallreduce``) while backward goes on with earlier layers.
The end of backward waits for every bucket and points each ``p.grad`` at
its slice of the reduced buffer. Buckets start in index order on every rank
(MPI needs collectives in the same order), and a parameter that got no
gradient counts as zeros.

MPI progresses a non-blocking collective only inside MPI calls, so while
buckets are in flight a helper thread pokes MPI every few tens of
microseconds; the kernels release the GIL, so it runs beside them.

``overlap=False`` (what "auto" picks on one machine whose cores all run
ranks) fills the buckets the same way and reduces them when backward ends,
blocking: there the reduction is CPU work on the same cores either way.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np

from ranvier import _runtime
from ranvier.device import array_module, is_gpu_array
from ranvier.distributed import collectives
from ranvier.tensor import Tensor, add_backward_observer, remove_backward_observer

DEFAULT_BUCKET_BYTES = 512 * 1024
# The progress thread's pauses: short at first (a large message's handshake takes a few calls), then
# doubling up to a cap, so that on a machine whose cores all run ranks it does not take a core's share
# from the kernels (at a steady 20 us it cost two ranks on two cores a third of their speed).
_POKE_FIRST_SECONDS = 20e-6
_POKE_MAX_SECONDS = 2e-3


def bucket_layout(sizes: list, bucket_bytes: int) -> list:
    """Parameter indices per bucket, in the order backward finishes them (the reverse of ``sizes``, which
    is creation order): buckets of about ``bucket_bytes``, closed once they reach it, except the last.

    The last bucket starts only when backward ends, so nothing hides its reduction: it holds only the
    first parameters created (the first layer's, whose gradients come last) up to ``bucket_bytes / 16``,
    and at least the very first parameter, so the exposed reduction stays a small one."""
    tail_bytes, tail, total = bucket_bytes // 16, [], 0
    for i, size in enumerate(sizes):
        if tail and total + size > tail_bytes:
            break
        tail.append(i)
        total += size
    buckets, current, current_bytes = [], [], 0
    for i in reversed(range(len(tail), len(sizes))):
        current.append(i)
        current_bytes += sizes[i]
        if current_bytes >= bucket_bytes:
            buckets.append(current)
            current, current_bytes = [], 0
    if current:
        buckets.append(current)
    if tail:
        buckets.append(list(reversed(tail)))
    return buckets


class _Bucket:
    def __init__(self, params: list, xp):
        self.params = params
        self.offsets = np.cumsum([0] + [p.size for p in params])
        self.buffer = xp.zeros(int(self.offsets[-1]), np.float32)
        self.ready: set = set()

    def slice_of(self, index: int):
        return self.buffer[self.offsets[index] : self.offsets[index + 1]]


class GradientReducer:
    """Sums ``weight * p.grad`` over the ranks for every parameter, once per armed backward."""

    def __init__(self, params, bucket_bytes: int = DEFAULT_BUCKET_BYTES, overlap="auto"):
        params = list(params)
        for p in params:
            if p.dtype != np.float32:
                raise TypeError(f"[GradientReducer] parameters must be float32, got {p.name} {p.dtype}")
        xp = array_module(params[0].data) if params else np
        self.on_gpu = bool(params) and is_gpu_array(params[0].data)
        layout = bucket_layout([p.size * 4 for p in params], bucket_bytes)
        self.buckets: list[_Bucket] = [_Bucket([params[i] for i in indices], xp) for indices in layout]
        self._where = {id(p): (b, i) for b in self.buckets for i, p in enumerate(b.params)}
        self._armed = False
        self._requests: list = []
        self._started = 0
        self._weight = 1.0
        self.wait_seconds = 0.0  # time spent waiting for buckets: communication backward did not hide
        # (end of backward, wait) per step while a benchmark asks for it: the wait also holds the time
        # the slower rank took to catch up, which only the ranks' end times together can tell apart
        self.step_log: list | None = None
        self.overlap = resolve_overlap(overlap, self.on_gpu)
        self._poker = _shared_poker() if self.overlap and not self.on_gpu else None
        add_backward_observer(self)

    def close(self) -> None:
        """Stop listening to backward passes."""
        remove_backward_observer(self)

    def arm(self, weight: float) -> None:
        """Reduce the gradients of the next backward pass, each scaled by ``weight`` first."""
        self._weight = float(weight)
        for bucket in self.buckets:
            bucket.ready.clear()
        self._requests, self._started, self._armed = [], 0, True

    # ---- the backward observer --------------------------------------------------------
    def grad_ready(self, leaf) -> None:
        where = self._where.get(id(leaf)) if self._armed else None
        if where is None:
            return
        bucket, index = where
        array_module(leaf.grad.data).multiply(leaf.grad.data.reshape(-1), self._weight, out=bucket.slice_of(index))
        bucket.ready.add(index)
        self._start_full_buckets()

    def backward_done(self) -> None:
        if self._armed:
            self.finish()

    # ---- reduction ---------------------------------------------------------------------
    def _start_full_buckets(self) -> None:
        if not self.overlap:
            return  # reduced one after another when backward ends (finish)
        while self._started < len(self.buckets):
            bucket = self.buckets[self._started]
            if len(bucket.ready) < len(bucket.params):
                return
            self._start(bucket)
            self._started += 1

    def _start(self, bucket: _Bucket) -> None:
        if self.on_gpu:
            from ranvier.distributed import nccl

            nccl.all_reduce_sum(bucket.buffer)  # stream-ordered: nothing to wait for
            return
        MPI = collectives._mpi()
        self._requests.append(collectives.communicator().Iallreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM))
        self._poker.start()

    def finish(self) -> None:
        """Reduce what is left (missing gradients as zeros), wait, and set every ``p.grad``."""
        for bucket in self.buckets[self._started :]:
            for index in set(range(len(bucket.params))) - bucket.ready:
                bucket.slice_of(index)[...] = 0
            bucket.ready.update(range(len(bucket.params)))
        self._start_full_buckets()
        start = time.perf_counter()
        if not self.overlap:
            self._reduce_now()
        elif self._requests:
            collectives._mpi().Request.Waitall(self._requests)
            self._poker.stop()
        waited = time.perf_counter() - start
        self.wait_seconds += waited
        if self.step_log is not None:
            self.step_log.append((start, waited))
        self._armed = False
        for bucket in self.buckets:
            for index, p in enumerate(bucket.params):
                p.grad = Tensor(bucket.slice_of(index).reshape(p.shape))

    def _reduce_now(self) -> None:
        """Every bucket summed over the ranks, blocking (no overlap): on the GPU NCCL is stream-ordered."""
        if self.on_gpu:
            from ranvier.distributed import nccl

            for bucket in self.buckets:
                nccl.all_reduce_sum(bucket.buffer)
            return
        MPI = collectives._mpi()
        for bucket in self.buckets:
            collectives.communicator().Allreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)


def resolve_overlap(overlap, on_gpu: bool) -> bool:
    """``overlap`` as True/False: "auto" overlaps on the GPU, across machines, or where a core is left
    for MPI's progress. On one machine whose cores all run ranks' kernels, a reduction is the ranks'
    own memory copies and sums: overlapped, it only takes turns with backward on the same cores and
    adds the progress thread's wake-ups (measured: benchmarks/distributed.py, docs/DISTRIBUTED.md)."""
    if overlap not in (True, False, "auto"):
        raise ValueError(f"[GradientReducer] overlap must be True, False or 'auto', got {overlap!r}")
    if overlap != "auto":
        return bool(overlap)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return overlap_pays(on_gpu, collectives.world_size(), collectives.local_size(), _runtime.get_num_threads(), cores)


def overlap_pays(on_gpu: bool, ranks: int, ranks_here: int, threads: int, cores: int) -> bool:
    """Whether overlapping the reduction with backward can hide it: NCCL on its stream, a network that
    moves bytes by itself (ranks on other machines), or a core here that no kernel thread uses."""
    return on_gpu or ranks > ranks_here or ranks_here * threads < cores


_pokers: list = []


def _shared_poker():
    """One poking thread per process, whatever the number of reducers."""
    if not _pokers:
        _pokers.append(_ProgressPoker())
    return _pokers[0]


class _ProgressPoker:
    """A daemon thread that calls into MPI while requests are in flight, so they progress."""

    def __init__(self):
        self._wake = threading.Event()
        self._active = False
        self._comm = collectives.communicator()
        threading.Thread(target=self._loop, name="ranvier-mpi-progress", daemon=True).start()

    def start(self) -> None:
        self._active = True
        self._wake.set()

    def stop(self) -> None:
        self._active = False

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            pause = _POKE_FIRST_SECONDS
            while self._active:
                self._wake.clear()
                self._comm.Iprobe()  # any MPI call drives the progress engine
                self._wake.wait(pause)
                pause = min(2 * pause, _POKE_MAX_SECONDS)

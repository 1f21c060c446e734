"""Process group and collectives over MPI (mpi4py), imported on first use.

Every rank calls each collective in the same order with arrays of the same
shape and dtype (``all_gather``: the same trailing shape); a mismatch raises
the same ValueError on every rank instead of hanging or misreading memory.
NumPy arrays travel over MPI, CuPy arrays over NCCL (``nccl.py``).
"""

from __future__ import annotations

import os
import sys
import time
import zlib

import numpy as np

from ranvier.device import is_gpu_array

_group: dict = {}  # comm, rank, size, local_rank, local_size after init()


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(
            "[ranvier.distributed] needs mpi4py and an MPI library: pip install 'ranvier[distributed]' "
            "(mpi4py and the mpich wheel), or mpi4py built against your cluster's MPI"
        ) from error
    return MPI


def init() -> None:
    """Join the ranks the MPI launcher started (``mpiexec -n 4 python train.py``); idempotent.

    Sets this rank's kernel threads to cores // ranks on this machine unless
    OMP_NUM_THREADS says otherwise, makes an uncaught exception on any rank
    abort them all, and on a GPU machine picks GPU ``local_rank``.
    """
    if _group:
        return
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    node = comm.Split_type(MPI.COMM_TYPE_SHARED)
    _group.update(comm=comm, rank=comm.rank, size=comm.size, local_rank=node.rank, local_size=node.size)
    node.Free()
    if "OMP_NUM_THREADS" not in os.environ:
        from ranvier import _runtime

        _runtime.set_num_threads(max(1, (os.cpu_count() or 1) // _group["local_size"]))
    if comm.size > 1:
        _install_abort_hook(comm)
    from ranvier import cuda

    if cuda.is_available():
        import cupy

        cupy.cuda.Device(_group["local_rank"] % cuda.device_count()).use()


def _install_abort_hook(comm) -> None:
    """An uncaught exception on one rank would leave the others waiting in a collective forever."""
    previous = sys.excepthook

    def abort_every_rank(kind, value, traceback):
        # our line first, and a moment before Abort: mpiexec's forwarder drops what a rank wrote
        # just before being killed, and the traceback alone would not say why every rank stopped
        sys.stderr.write(
            f"[ranvier.distributed] rank {comm.rank} of {comm.size} raised {kind.__name__}: aborting every rank\n"
        )
        previous(kind, value, traceback)
        sys.stderr.flush()
        time.sleep(0.2)
        comm.Abort(1)

    sys.excepthook = abort_every_rank


def _setting(key: str):
    init()
    return _group[key]


def communicator():
    """The MPI communicator of all ranks (``mpi4py.MPI.COMM_WORLD``)."""
    return _setting("comm")


def rank() -> int:
    return _setting("rank")


def world_size() -> int:
    return _setting("size")


def local_rank() -> int:
    """This rank's index among the ranks on its machine (the GPU it uses)."""
    return _setting("local_rank")


def local_size() -> int:
    return _setting("local_size")


def barrier() -> None:
    communicator().Barrier()


def _require_same(op: str, description) -> None:
    """Raise on every rank when ``description`` differs between ranks (one tiny collective when it does not)."""
    MPI = _mpi()
    signature = zlib.crc32(repr(description).encode())
    bounds = np.array([signature, -signature], np.int64)
    communicator().Allreduce(MPI.IN_PLACE, bounds, op=MPI.MAX)
    if bounds[0] != -bounds[1]:
        seen = communicator().allgather(description)
        listing = ", ".join(f"rank {r}: {d}" for r, d in enumerate(seen))
        raise ValueError(f"[{op}] every rank must pass the same shape and dtype, got {listing}")


def _require_array(op: str, array) -> None:
    if not (isinstance(array, np.ndarray) or is_gpu_array(array)):
        raise TypeError(f"[{op}] array must be a NumPy or CuPy array, got {type(array).__name__}")
    if not array.flags.writeable:
        raise ValueError(f"[{op}] array must be writeable: the result is written into it")


def _contiguous(array):
    """``array`` itself when it is C-contiguous, else a contiguous copy to write back."""
    return array if array.flags.c_contiguous else array.copy()


def all_reduce(array, op: str = "sum"):
    """Sum (or mean) of ``array`` over every rank, written into ``array``, which is returned."""
    _require_array("all_reduce", array)
    if op not in ("sum", "mean"):
        raise ValueError(f"[all_reduce] op must be 'sum' or 'mean', got {op!r}")
    if op == "mean" and array.dtype.kind not in "fc":
        raise TypeError(f"[all_reduce] op='mean' needs a floating-point array, got {array.dtype}")
    _require_same("all_reduce", (array.shape, array.dtype.str))
    buffer = _contiguous(array)
    if is_gpu_array(buffer):
        from ranvier.distributed import nccl

        nccl.all_reduce_sum(buffer)
    else:
        communicator().Allreduce(_mpi().IN_PLACE, buffer, op=_mpi().SUM)
    if op == "mean":
        buffer /= world_size()
    if buffer is not array:
        array[...] = buffer
    return array


def broadcast(array, root: int = 0):
    """Rank ``root``'s ``array`` written into ``array`` on every rank, which is returned."""
    _require_array("broadcast", array)
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) or not 0 <= root < world_size():
        raise ValueError(f"[broadcast] root must be a rank in [0, {world_size()}), got {root!r}")
    _require_same("broadcast", (array.shape, array.dtype.str))
    buffer = _contiguous(array)
    if is_gpu_array(buffer):
        from ranvier.distributed import nccl

        nccl.broadcast(buffer, int(root))
    else:
        communicator().Bcast(buffer, root=int(root))
    if buffer is not array:
        array[...] = buffer
    return array


def all_gather(array):
    """Every rank's ``array`` joined along axis 0 in rank order (a new array).

    The first axis may differ between ranks (Horovod's allgather); a 0-d
    array counts as shape (1,), so scalars gather to shape (world_size,).
    """
    if not (isinstance(array, np.ndarray) or is_gpu_array(array)):
        raise TypeError(f"[all_gather] array must be a NumPy or CuPy array, got {type(array).__name__}")
    local = array.reshape(1) if array.ndim == 0 else array
    trailing = (local.shape[1:], local.dtype.str)
    _require_same("all_gather", trailing)
    rows = np.array(communicator().allgather(local.shape[0]), np.int64)
    row_size = int(np.prod(local.shape[1:], dtype=np.int64))
    if is_gpu_array(local):
        from ranvier.distributed import nccl

        return nccl.all_gather(local, rows)
    out = np.empty((int(rows.sum()),) + local.shape[1:], local.dtype)
    communicator().Allgatherv(np.ascontiguousarray(local), [out, rows * row_size])
    return out

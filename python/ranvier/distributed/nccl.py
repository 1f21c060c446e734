"""The GPU side of the collectives: NCCL through CuPy (``cupy.cuda.nccl``).

The ranks' NCCL unique id travels over MPI once; every call runs on CuPy's
current stream, so it is ordered after the kernels that produced its input
and before the ones that read its output, without a host synchronisation.
Buffers are C-contiguous CuPy arrays (collectives.py sees to that).
"""

from __future__ import annotations

import numpy as np

from ranvier.distributed import collectives

_communicator: list = []  # the one NcclCommunicator, made on first use

_NCCL_TYPES = {
    "int8": "NCCL_INT8",
    "uint8": "NCCL_UINT8",
    "int32": "NCCL_INT32",
    "uint32": "NCCL_UINT32",
    "int64": "NCCL_INT64",
    "uint64": "NCCL_UINT64",
    "float16": "NCCL_FLOAT16",
    "float32": "NCCL_FLOAT32",
    "float64": "NCCL_FLOAT64",
}


def _nccl():
    from cupy.cuda import nccl

    return nccl


def communicator():
    """The NCCL communicator of all ranks; its unique id is rank 0's, broadcast over MPI."""
    if not _communicator:
        nccl = _nccl()
        unique_id = nccl.get_unique_id() if collectives.rank() == 0 else None
        unique_id = collectives.communicator().bcast(unique_id, root=0)
        _communicator.append(nccl.NcclCommunicator(collectives.world_size(), unique_id, collectives.rank()))
    return _communicator[0]


def _stream() -> int:
    import cupy

    return cupy.cuda.get_current_stream().ptr


def _type(array) -> int:
    name = np.dtype(array.dtype).name
    if name not in _NCCL_TYPES:
        raise TypeError(f"[ranvier.distributed] NCCL has no type for {name}; use one of {', '.join(_NCCL_TYPES)}")
    return getattr(_nccl(), _NCCL_TYPES[name])


def all_reduce_sum(buffer) -> None:
    """Sum over the ranks, in place."""
    ptr = buffer.data.ptr
    communicator().allReduce(ptr, ptr, buffer.size, _type(buffer), _nccl().NCCL_SUM, _stream())


def broadcast(buffer, root: int) -> None:
    communicator().bcast(buffer.data.ptr, buffer.size, _type(buffer), root, _stream())


def all_gather(local, rows: np.ndarray):
    """Every rank's ``local`` (``rows[r]`` rows on rank r) joined along axis 0.

    NCCL gathers equal counts, so each rank sends its rows padded to the
    longest, and the padding is dropped afterwards.
    """
    import cupy

    longest, world = int(rows.max()), len(rows)
    padded = cupy.zeros((longest,) + local.shape[1:], local.dtype)
    padded[: local.shape[0]] = local
    gathered = cupy.empty((world,) + padded.shape, local.dtype)
    communicator().allGather(padded.data.ptr, gathered.data.ptr, padded.size, _type(padded), _stream())
    return cupy.concatenate([gathered[r, : rows[r]] for r in range(world)], axis=0)

"""Data-parallel training on many processes and machines, over MPI (CPU) and NCCL (GPU).

    mpiexec -n 4 python train.py            # one machine
    mpiexec -f hosts -n 16 python train.py   # several (MPICH; Open MPI: --hostfile)

Keras style: ``model.compile(..., distribute=DataParallel())``, then ``fit``
as usual. PyTorch style: ``DistributedDataParallel(model)`` and
``DistributedSampler`` in a hand-written loop. The collectives
(``all_reduce``, ``broadcast``, ``all_gather``) work on NumPy arrays over MPI
and on CuPy arrays over NCCL. mpi4py is imported on first use, never by
``import ranvier``. See docs/DISTRIBUTED.md.
"""

from ranvier.distributed.collectives import (
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    communicator,
    init,
    local_rank,
    local_size,
    rank,
    world_size,
)
from ranvier.distributed.data_parallel import DistributedDataParallel
from ranvier.distributed.sampler import DistributedSampler
from ranvier.distributed.strategy import DataParallel, Strategy

__all__ = [
    "DataParallel",
    "DistributedDataParallel",
    "DistributedSampler",
    "Strategy",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "communicator",
    "init",
    "local_rank",
    "local_size",
    "rank",
    "world_size",
]

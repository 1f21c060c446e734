"""The one place that picks the kernel module for an array.

NumPy arrays (and CPU arrays exposing DLPack or the array interface) run on
``ranvier._cpu``; CuPy arrays run on ``ranvier._cuda``. Nothing else in the
library imports either module directly for dispatch.
"""
from __future__ import annotations

import math

import numpy as np

from ranvier import _cpu

_cuda_module = None


def is_cupy(x) -> bool:
    """True for a CuPy array (checked without importing CuPy)."""
    return type(x).__module__.startswith("cupy")


def array_module(x):
    """``numpy`` or ``cupy``: the array module that owns ``x``."""
    if is_cupy(x):
        import cupy

        return cupy
    return np


# Bytes: a cache line and an AVX-512 vector. Large outputs on a line boundary
# can be written with cache-bypassing stores (NumPy aligns only to 16 bytes).
HOST_ALIGNMENT = 64


def empty(like, shape):
    """An uninitialised float32 array of ``shape`` on ``like``'s device, on the
    host starting on a HOST_ALIGNMENT boundary."""
    if is_cupy(like):
        import cupy

        return cupy.empty(shape, dtype=np.float32)
    count = math.prod(shape)
    raw = np.empty(count + HOST_ALIGNMENT // 4, dtype=np.float32)
    start = (-raw.ctypes.data % HOST_ALIGNMENT) // 4
    return raw[start:start + count].reshape(shape)


def cuda_module():
    """The compiled CUDA module, or None when this build has none."""
    global _cuda_module
    if _cuda_module is None:
        try:
            from ranvier import _cuda
        except ImportError:
            return None
        _cuda_module = _cuda
    return _cuda_module


def kernels(x):
    """``_cpu`` for host arrays, ``_cuda`` for CuPy arrays."""
    if type(x) is np.ndarray or not is_cupy(x):  # the first test answers the common case, ~0.2 us sooner
        return _cpu
    mod = cuda_module()
    if mod is None:
        raise RuntimeError(
            "a CuPy array was passed, but this ranvier was built without CUDA; "
            "reinstall with nvcc on PATH (RANVIER_CUDA=ON pip install .)"
        )
    return mod

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


def empty(like, shape, dtype=np.float32):
    """An uninitialised array of ``shape`` on ``like``'s device, for an op's output.

    On the host, one of at least ``_cpu.CACHED_OUTPUT_MIN_BYTES`` comes from
    ranvier's output cache: the page-aligned buffer of an earlier output of the
    same size that is no longer used, when there is one (memory fresh from the
    OS faults on its first write; see ``ranvier.set_output_cache_limit``).
    """
    if is_cupy(like):
        import cupy

        return cupy.empty(shape, dtype=dtype)
    dtype = np.dtype(dtype)
    if math.prod(shape) * dtype.itemsize >= _cpu.CACHED_OUTPUT_MIN_BYTES:
        return _cpu.empty(shape, dtype)
    return np.empty(shape, dtype=dtype)


def empty_like(a):
    """``empty`` with ``a``'s shape and dtype; an array that is not C-ordered
    gets NumPy's (or CuPy's) ``empty_like``, which keeps its layout."""
    if is_cupy(a) or not a.flags.c_contiguous:
        return array_module(a).empty_like(a)
    return empty(a, a.shape, a.dtype)


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

"""The one place that picks the kernel module for an array.

Host arrays (NumPy, and CPU arrays exposing DLPack or the array interface) run
on ``ranvier._cpu``; CUDA arrays (CuPy) run on ``ranvier._cuda``. Nothing else
in the library imports either module for dispatch. Both modules check every
argument and allocate their outputs themselves (docs/DESIGN.md, "The boundary").
"""

from __future__ import annotations

import numpy as np

from ranvier import _cpu
from ranvier.device import is_gpu_array

_cuda_module = None


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
    if type(x) is np.ndarray or not is_gpu_array(x):  # the first test answers the common case sooner
        return _cpu
    mod = cuda_module()
    if mod is None:
        raise RuntimeError(
            "a CuPy array was passed, but this ranvier was built without CUDA; "
            "reinstall with nvcc on PATH (RANVIER_CUDA=ON pip install .)"
        )
    return mod

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
_cuda_load_error: str | None = None
_cuda_imported = False


def cuda_module():
    """The compiled CUDA module, or None when this build has none or it failed to load."""
    global _cuda_module, _cuda_load_error, _cuda_imported
    if not _cuda_imported:
        _cuda_imported = True
        try:
            from ranvier import _cuda

            _cuda_module = _cuda
        except ImportError as e:
            # A build without CUDA has no module; any other ImportError (a missing
            # libcudart, an undefined symbol) is kept for `ranvier info` and errors.
            if not (isinstance(e, ModuleNotFoundError) and e.name == "ranvier._cuda"):
                _cuda_load_error = f"{type(e).__name__}: {e}"
    return _cuda_module


def cuda_load_error() -> str | None:
    """Why the installed CUDA module failed to import, or None."""
    cuda_module()
    return _cuda_load_error


def kernels(x):
    """``_cpu`` for host arrays, ``_cuda`` for CuPy arrays."""
    if type(x) is np.ndarray or not is_gpu_array(x):  # the first test answers the common case sooner
        return _cpu
    mod = cuda_module()
    if mod is None:
        if _cuda_load_error:
            raise RuntimeError(f"a CuPy array was passed, but ranvier's CUDA module failed to load: {_cuda_load_error}")
        raise RuntimeError(
            "a CuPy array was passed, but this ranvier was built without CUDA; "
            "reinstall with nvcc on PATH (RANVIER_CUDA=ON pip install .)"
        )
    return mod

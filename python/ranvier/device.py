"""The one place that knows the devices: "cpu" (NumPy arrays) and "cuda"
(CuPy arrays), and the only module that imports CuPy (lazily: ranvier runs
without it)."""

from __future__ import annotations

import numpy as np

DEVICES = ("cpu", "cuda")


def is_gpu_array(x) -> bool:
    """True for a CuPy array (checked without importing CuPy)."""
    return type(x).__module__.startswith("cupy")


def array_module(x):
    """``numpy`` or ``cupy``: the array module that owns ``x``."""
    if is_gpu_array(x):
        import cupy

        return cupy
    return np


def device_of(x) -> str:
    return "cuda" if is_gpu_array(x) else "cpu"


def check_device(op: str, device: str) -> str:
    """``device`` if it is one of DEVICES, else a ValueError naming ``op``."""
    if device not in DEVICES:
        raise ValueError(f"[{op}] device must be 'cpu' or 'cuda', got {device!r}")
    return device


def to_host(x) -> np.ndarray:
    """``x`` as a NumPy array (copied from the GPU when it is there)."""
    return x.get() if is_gpu_array(x) else np.asarray(x)


def to_device(x, device: str, op: str = "to_device"):
    """``x`` as an array on ``device`` (the same array when it is there already)."""
    if check_device(op, device) == "cpu":
        return to_host(x)
    if is_gpu_array(x):
        return x
    from ranvier import cuda

    if not cuda.is_available():
        raise RuntimeError(f"[{op}] no CUDA device is available (ranvier.cuda.is_available() is False)")
    import cupy

    return cupy.asarray(x)


def array_from_dlpack(x, gpu: bool):
    """A NumPy (host) or CuPy (GPU) array viewing ``x``'s memory through DLPack."""
    if not gpu:
        return np.from_dlpack(x)
    import cupy

    return cupy.from_dlpack(x)

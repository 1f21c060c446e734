"""Whether the CUDA backend was built and whether a GPU can run it, and if not, why."""

from __future__ import annotations

from ranvier import backend


def is_built() -> bool:
    """True when this installation contains the CUDA module (even one that failed to load)."""
    return backend.cuda_module() is not None or backend.cuda_load_error() is not None


def is_available() -> bool:
    """True when the CUDA module is built and at least one GPU is usable."""
    mod = backend.cuda_module()
    return bool(mod is not None and mod.is_available())


def unavailable_reason() -> str | None:
    """Why CUDA cannot run here (the import error, the driver's error), or None when it can."""
    mod = backend.cuda_module()
    if mod is None:
        error = backend.cuda_load_error()
        return f"the CUDA module failed to load: {error}" if error else "ranvier was built without CUDA"
    error = mod.device_count_error()
    if error:
        return f"cudaGetDeviceCount failed: {error}"
    return None if mod.device_count() > 0 else "the CUDA driver sees no GPU"


def device_count() -> int:
    return backend.cuda_module().device_count() if is_available() else 0


def device_name(index: int = 0) -> str | None:
    return backend.cuda_module().device_name(index) if is_available() else None

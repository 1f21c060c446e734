"""Whether the CUDA backend was built and whether a GPU can run it."""

from __future__ import annotations

from ranvier import backend


def is_built() -> bool:
    """True when this installation contains the CUDA module."""
    return backend.cuda_module() is not None


def is_available() -> bool:
    """True when the CUDA module is built and at least one GPU is usable."""
    mod = backend.cuda_module()
    return bool(mod is not None and mod.is_available())


def device_count() -> int:
    return backend.cuda_module().device_count() if is_available() else 0


def device_name(index: int = 0) -> str | None:
    return backend.cuda_module().device_name(index) if is_available() else None

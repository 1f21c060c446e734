"""Thread count, instruction-set and output-memory controls of the CPU kernels."""

from __future__ import annotations

import numbers

from ranvier import _cpu


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in every CPU kernel (default: OMP_NUM_THREADS, else all cores)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"[set_num_threads] n must be a positive integer, got {n!r}")
    _cpu.set_num_threads(int(n))


def get_num_threads() -> int:
    return _cpu.get_num_threads()


def get_isa() -> str:
    """The instruction set the CPU kernels use now: generic, avx2 or avx512."""
    return _cpu.selected_isa()


def set_isa(name: str) -> None:
    """Force the kernels of one instruction set (``RANVIER_ISA`` does this at import)."""
    _cpu.set_isa(name)


def supported_isas() -> list[str]:
    return [name for name in ("generic", "avx2", "avx512") if _cpu.isa_supported(name)]


def set_output_cache_limit(nbytes: int) -> None:
    """Keep at most ``nbytes`` of memory from ops' large outputs that no array
    uses any more, for the next outputs of the same sizes (default 256 MB, or
    the ``RANVIER_OUTPUT_CACHE_MB`` environment variable); 0 returns every such
    buffer to the system as its array dies."""
    if isinstance(nbytes, bool) or not isinstance(nbytes, numbers.Integral) or nbytes < 0:
        raise ValueError(f"[set_output_cache_limit] nbytes must be a non-negative integer, got {nbytes!r}")
    _cpu.set_output_cache_limit(int(nbytes))


def get_output_cache_limit() -> int:
    return _cpu.output_cache_limit()

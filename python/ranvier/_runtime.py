"""Thread count and instruction-set controls of the CPU kernels."""
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

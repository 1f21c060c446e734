"""What a benchmark ran on, and the host's ceilings.

The ceilings are measured at the start of every run (DESIGN.md, "Performance
method"): the fp32 FMA peak of the selected ISA on the threads in use and the
STREAM triad bandwidth, which every "% peak" and "% BW" divides by.
"""

from __future__ import annotations

import ctypes
import os
import sys

FMA_SECONDS = 0.15  # of FMA chains on every thread
TRIAD_SECONDS = 0.1  # of triad passes, after the arrays' first touch

CORETYPE = "OPENBLAS_CORETYPE"
REEXEC_MARK = "RANVIER_BENCH_REEXEC"  # set in the re-executed process's environment


def reexec_without_coretype(argv) -> None:
    """Re-execute ``python -m ranvier bench argv`` without OPENBLAS_CORETYPE.

    OpenBLAS reads the variable once, when NumPy loads it, and a forced
    Haswell core type halves its GEMM on AVX-512 machines; the NumPy baseline
    must run without it. Returns only when the variable is not set.
    """
    if CORETYPE not in os.environ:
        return
    env = dict(os.environ)
    env[REEXEC_MARK] = env.pop(CORETYPE)
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "ranvier", "bench", *argv], env)


def import_torch():
    """The torch module, or None when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def import_matplotlib_pyplot():
    """matplotlib.pyplot on the file-only Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


class OpenBLAS:
    """NumPy's OpenBLAS, reached through ctypes: core type, config and threads.

    NumPy's wheels bundle it with prefixed symbols (``scipy_openblas_*64_``);
    a system OpenBLAS has plain ``openblas_*`` ones. ``found`` is False when
    NumPy links some other BLAS or the library cannot be located.
    """

    _NAMINGS = (("scipy_openblas_", "64_"), ("scipy_openblas_", ""), ("openblas_", ""))

    def __init__(self):
        self._lib, self._prefix, self._suffix = None, "", ""
        for path in self._loaded_paths():
            lib = ctypes.CDLL(path)
            for prefix, suffix in self._NAMINGS:
                if hasattr(lib, f"{prefix}get_corename{suffix}"):
                    self._lib, self._prefix, self._suffix = lib, prefix, suffix
                    return

    @staticmethod
    def _loaded_paths():
        import numpy  # noqa: F401  (loads the BLAS)

        try:
            with open("/proc/self/maps") as f:
                paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
        except OSError:
            return []
        return sorted(p for p in paths if p.startswith("/"))

    @property
    def found(self) -> bool:
        return self._lib is not None

    def _fn(self, name: str, restype=ctypes.c_int):
        fn = getattr(self._lib, f"{self._prefix}{name}{self._suffix}")
        fn.restype = restype
        return fn

    def corename(self) -> str:
        return self._fn("get_corename", ctypes.c_char_p)().decode() if self.found else "(unknown)"

    def config(self) -> str:
        return self._fn("get_config", ctypes.c_char_p)().decode() if self.found else "(unknown)"

    def get_num_threads(self):
        return self._fn("get_num_threads")() if self.found else None

    def set_num_threads(self, n: int) -> None:
        if self.found:
            self._fn("set_num_threads", None)(ctypes.c_int(n))


def measure_ceilings() -> dict:
    """The host's fp32 FMA peak (GFLOP/s, selected ISA) and STREAM triad bandwidth (GB/s) on
    ranvier's threads: about half a second."""
    from ranvier import _cpu

    return {
        "peak_gflops": _cpu.measure_fma_peak(FMA_SECONDS),
        "stream_gbps": _cpu.measure_triad_bandwidth(TRIAD_SECONDS),
    }


def describe_ceilings(ceilings: dict, isa: str, threads: int) -> str:
    """The header line of the ceilings."""
    return (
        f"host ceilings ({isa}, {threads} threads): fp32 FMA peak {ceilings['peak_gflops']:.0f} GFLOP/s, "
        f"STREAM triad {ceilings['stream_gbps']:.1f} GB/s"
    )


def collect(torch, openblas: OpenBLAS, ceilings: dict) -> dict:
    """ranvier.info.collect() plus the baselines' versions, threads and the host's ceilings."""
    import numpy as np

    from ranvier import info

    env = info.collect()
    env["numpy"] = np.__version__
    env["numpy_blas"] = openblas.config()
    env["numpy_blas_core"] = openblas.corename()
    env["numpy_blas_threads"] = openblas.get_num_threads()
    env["openblas_coretype_env"] = (
        f"removed (was {os.environ[REEXEC_MARK]})"
        if REEXEC_MARK in os.environ
        else os.environ.get(CORETYPE, "(not set)")
    )
    env["torch"] = torch.__version__ if torch is not None else "not installed"
    env["torch_threads"] = torch.get_num_threads() if torch is not None else None
    env["load_average"] = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "(unknown)"
    env["peak_gflops"] = round(ceilings["peak_gflops"], 1)
    env["stream_gbps"] = round(ceilings["stream_gbps"], 1)
    return env

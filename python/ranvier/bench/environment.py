"""What a benchmark ran on, and the machine's floor figures.

The floor figures are this machine's (DESIGN.md, "Performance method"): the
measured fp32 FMA peak of both cores and the STREAM triad bandwidth that the
bandwidth targets are fractions of. They live here and nowhere else.
"""

from __future__ import annotations

import ctypes
import os
import sys

PEAK_GFLOPS = 479.0  # fp32 FMA peak, 2 Zen 5 cores with AVX-512
STREAM_GBPS = 43.0  # STREAM triad, GB/s

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


def collect(torch, openblas: OpenBLAS) -> dict:
    """ranvier.info.collect() plus the baselines' versions, threads and the floor figures."""
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
    env["peak_gflops"] = PEAK_GFLOPS
    env["stream_gbps"] = STREAM_GBPS
    return env

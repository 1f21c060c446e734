"""What this installation is and what it runs on (``python -m ranvier info``)."""

from __future__ import annotations

import os
import platform

import numpy as np

from ranvier import _cpu, _runtime, cuda
from ranvier._version import __version__


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def collect() -> dict:
    """Every line of ``ranvier info`` as a dict (also recorded by benchmarks)."""
    built = cuda.is_built()
    available = cuda.is_available()
    return {
        "ranvier": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "compiler": _cpu.compiler,
        "cpu": cpu_model(),
        "isa": _runtime.get_isa(),
        "isa_detected": _cpu.detected_isa(),
        "isas_supported": ", ".join(_runtime.supported_isas()),
        "isa_override": os.environ.get("RANVIER_ISA") or "(none)",
        "threads": _runtime.get_num_threads(),
        "cuda_built": built,
        "cuda_available": available,
        "cuda_device": cuda.device_name(0) if available else "(none)",
        "cuda_error": cuda.unavailable_reason() or "(none)",
    }


def render(info: dict) -> str:
    width = max(len(k) for k in info)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in info.items())

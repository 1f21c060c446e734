"""A benchmark case: one op at one shape, its work count, its targets, and
how to build each system's call.

``build(torch)`` makes the inputs (outside the timed region) and returns
{system: zero-argument call}; a system that has no meaningful version of the
op is left out and shows as "-". ``torch`` is the module, or None when
PyTorch is not installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

import numpy as np

FLOPS = "GFLOP/s"
BYTES = "GB/s"


@dataclass(frozen=True)
class Target:
    """Met when ranvier is ``at_least`` times faster than ``baseline`` ("numpy", "torch"),
    or, for baseline "bandwidth", reaches ``at_least`` of the STREAM bandwidth."""

    baseline: str
    at_least: float

    def describe(self) -> str:
        if self.baseline == "bandwidth":
            return f">={self.at_least:.0%} BW"
        return f">={self.at_least:g}x {self.baseline}"


@dataclass(frozen=True)
class Case:
    op: str  # the op and what is timed, e.g. "linear+relu fwd+bwd"
    shape: str
    work: float  # FLOPs (unit FLOPS) or bytes moved (unit BYTES) by one call
    unit: str
    build: Callable[[Optional[object]], Dict[str, Callable[[], object]]]
    targets: Tuple[Target, ...] = ()
    family: str = ""

    def matches(self, filters, shapes=()) -> bool:
        """Its op or family contains one of ``filters`` and its shape one of ``shapes`` (empty: any)."""
        return (not filters or any(f in self.op or f in self.family for f in filters)) and (
            not shapes or any(s in self.shape for s in shapes)
        )


def randn(rng: np.random.Generator, *shape, scale: float = 1.0) -> np.ndarray:
    """float32 standard normal values times ``scale``."""
    return (rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)).astype(np.float32, copy=False)


def tensor(torch, a: np.ndarray, requires_grad: bool = False):
    """A torch tensor holding its own copy of ``a``."""
    return torch.from_numpy(np.ascontiguousarray(a).copy()).requires_grad_(requires_grad)


def nchw(a: np.ndarray) -> np.ndarray:
    """NHWC images in PyTorch's native NCHW layout (done before timing)."""
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))

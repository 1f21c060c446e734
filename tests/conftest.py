"""Shared fixtures: backends (CPU always, CUDA when a GPU is present) and ISAs.

RANVIER_REQUIRE_CUDA=1 (for a machine with a GPU) turns every CUDA skip into
a failure that says why CUDA is unavailable: a broken build must not pass as
a machine without a GPU.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import ranvier

REQUIRE_CUDA = os.environ.get("RANVIER_REQUIRE_CUDA") == "1"


def _cuda_unready_reason() -> str | None:
    reason = ranvier.cuda.unavailable_reason()
    if reason:
        return reason
    try:
        import cupy  # noqa: F401
    except ImportError as e:
        return f"CuPy cannot be imported ({e})"
    return None


class Backend:
    """Moves test data to a backend's arrays and back."""

    def __init__(self, name: str):
        self.name = name
        if name == "cuda":
            import cupy

            self.xp = cupy
        else:
            self.xp = np

    def asarray(self, a):
        return None if a is None else self.xp.asarray(a)

    def numpy(self, a):
        if a is None:
            return None
        return a.get() if self.name == "cuda" else np.asarray(a)

    def __repr__(self):
        return self.name


@pytest.fixture(params=["cpu", "cuda"])
def backend(request):
    reason = _cuda_unready_reason() if request.param == "cuda" else None
    if reason:
        message = f"CUDA backend needs a GPU and CuPy: {reason}"
        if REQUIRE_CUDA:
            pytest.fail(f"{message} (RANVIER_REQUIRE_CUDA=1)")
        pytest.skip(message)
    return Backend(request.param)


@pytest.fixture(params=["generic", "avx2", "avx512"])
def isa(request):
    """Runs a CPU test once per instruction set this CPU supports."""
    if request.param not in ranvier.supported_isas():
        pytest.skip(f"this CPU cannot run {request.param}")
    before = ranvier.get_isa()
    ranvier.set_isa(request.param)
    yield request.param
    ranvier.set_isa(before)


@pytest.fixture
def rng(request):
    """A generator seeded from the test's name: fresh per test, reproducible per run."""
    import zlib

    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))

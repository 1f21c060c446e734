"""`python -m ranvier check`: the user's self-test."""

import subprocess
import sys

import numpy as np
from helpers import all_op_names

import ranvier
from ranvier import selfcheck


def test_every_op_passes_on_every_isa():
    rows = selfcheck.run(seed=3)
    failures = [r for r in rows if not r[3]]
    assert not failures, failures
    backends = {r[1] for r in rows}
    assert backends >= {f"cpu/{isa}" for isa in ranvier.supported_isas()}


def test_every_op_is_checked_on_every_backend():
    rows = selfcheck.run(seed=1)
    ops = all_op_names()
    for backend in {r[1] for r in rows}:
        assert {r[0] for r in rows if r[1] == backend} == ops, backend


def test_error_measure_catches_wrong_results():
    assert selfcheck.relative_error(np.array([1.0, 2.0]), np.array([1.0, 4.0])) == 0.5
    assert selfcheck.relative_error(np.array([np.nan]), np.array([1.0])) == float("inf")
    assert selfcheck.relative_error([np.zeros(2)], [np.zeros(3)]) == float("inf")


def test_cli_prints_a_table():
    out = subprocess.run([sys.executable, "-m", "ranvier", "check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "max rel error" in out.stdout and "conv2d_backward" in out.stdout
    assert out.stdout.strip().endswith("0 failed")

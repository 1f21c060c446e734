"""GEMM: ranvier vs NumPy (OpenBLAS) vs PyTorch CPU, side by side in one run.

    python benchmarks/gemm.py [--threads N] [--quick]

NumPy is timed without OPENBLAS_CORETYPE (this script re-executes itself
without it: a forced Haswell core type halves OpenBLAS on AVX-512 machines).
Each cell is the median of several runs after a warm-up.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

if os.environ.pop("OPENBLAS_CORETYPE", None) is not None:
    os.execv(sys.executable, [sys.executable] + sys.argv)

import numpy as np  # noqa: E402

import ranvier  # noqa: E402
from ranvier import ops  # noqa: E402

SHAPES = [(1024, 1024, 1024), (2048, 2048, 2048), (64, 784, 128), (128, 1152, 64), (256, 1600, 128), (32, 128, 10)]


def median_seconds(fn, min_time=0.3, min_runs=5) -> float:
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=ranvier.get_num_threads())
    parser.add_argument("--quick", action="store_true", help="small shapes only, shorter timing")
    args = parser.parse_args(argv)
    ranvier.set_num_threads(args.threads)
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    shapes = [s for s in SHAPES if max(s) <= 1024] if args.quick else SHAPES
    print(f"ranvier {ranvier.__version__}  isa={ranvier.get_isa()}  threads={args.threads}  "
          f"numpy {np.__version__}  torch {torch.__version__ if torch else 'not installed'}")
    header = f"{'m x k x n':>18} {'ranvier GF/s':>13} {'numpy GF/s':>11} {'torch GF/s':>11} {'vs numpy':>9} {'vs torch':>9}"
    print(header)
    rng = np.random.default_rng(0)
    for m, k, n in shapes:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        flops = 2.0 * m * k * n
        ours = flops / median_seconds(lambda: ops.matmul(a, b)) / 1e9
        base = flops / median_seconds(lambda: a @ b) / 1e9
        line = f"{f'{m}x{k}x{n}':>18} {ours:13.1f} {base:11.1f}"
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            theirs = flops / median_seconds(lambda: ta @ tb) / 1e9
            line += f" {theirs:11.1f} {ours / base:8.2f}x {ours / theirs:8.2f}x"
        else:
            line += f" {'-':>11} {ours / base:8.2f}x {'-':>9}"
        print(line)


if __name__ == "__main__":
    main()

"""``python -m ranvier bench --loop SECONDS``: one system's call of each chosen
case, back to back, for a sampling profiler:

    perf record -g -- python -m ranvier bench --loop 5 --filter lstm

The inputs are built before the loop and no other system runs in it, so the
samples fall on the chosen system's own work (set by ``--system``; for
function names in ranvier's kernels, build it with symbols: see the
README's Benchmarks section). Prints each case's number of calls, median and best.
"""

from __future__ import annotations

import statistics
import time

from ranvier.bench.report import format_seconds


def call_for(seconds: float, fn) -> list:
    """Seconds of each call of fn, called back to back for about ``seconds`` (at least once)."""
    times = []
    end = time.perf_counter() + seconds
    while not times or time.perf_counter() < end:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def run(cases, system: str, seconds: float, torch) -> int:
    """Loops ``system``'s call of each case; 2 when no chosen case has one."""
    looped = 0
    for case in cases:
        fns = case.build(torch)
        if system not in fns:
            print(f"{case.op} {case.shape}: {system} has no version of this op (skipped)")
            continue
        fns[system]()  # first call outside the loop: allocations and packing caches settle
        times = call_for(seconds, fns[system])
        looped += 1
        print(
            f"{case.op} {case.shape} [{system}]: {len(times)} calls, "
            f"median {format_seconds(statistics.median(times))}, "
            f"best {format_seconds(min(times))}"
        )
        del fns
    return 0 if looped else 2

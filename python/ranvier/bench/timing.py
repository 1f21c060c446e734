"""Timing: the median of repeated samples after a warm-up, within a time budget.

The systems of a case (ranvier, NumPy, PyTorch) take turns, ``rounds``
times: in each turn a system is warmed up, then sampled for its share of the
budget. Turns, not single calls interleaved: each system has its own thread
pool, and a pool's workers spin for a while after a call (OpenBLAS's for
about 0.1 s), which on a 2-core machine slows whichever system runs next; the
warm-up lasts at least SETTLE seconds (or the whole budget when smaller) so
that the previous system's workers are asleep before sampling starts. Several
turns, not one: on a shared host a slow spell of a few seconds then falls on
every system instead of on whichever was being timed, which keeps it out of
the ratios. A sample runs the call enough times to last about budget /
SAMPLES_PER_BUDGET, which keeps the clock's resolution out of microsecond
calls. A system is sampled until it has at least ``min_samples`` samples and
``budget`` seconds of timed calls.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Dict, Optional

SAMPLES_PER_BUDGET = 15
WARMUP_FRACTION = 0.2  # of the budget, per system, at least one call
SETTLE = 0.1  # seconds, the shortest warm-up


@dataclass(frozen=True)
class Settings:
    budget: float  # seconds of timed calls per system and case
    min_samples: int
    rounds: int = 1  # turns the systems take

    @classmethod
    def for_mode(cls, quick: bool, budget: Optional[float] = None) -> Settings:
        default = cls(budget=0.1, min_samples=3) if quick else cls(budget=0.6, min_samples=6, rounds=3)
        return default if budget is None else cls(budget, default.min_samples, default.rounds)


@dataclass(frozen=True)
class Timing:
    median: float  # seconds per call
    best: float  # seconds per call, the fastest sample
    samples: int
    calls_per_sample: int

    def as_dict(self) -> dict:
        return {
            "median_s": self.median,
            "best_s": self.best,
            "samples": self.samples,
            "calls_per_sample": self.calls_per_sample,
        }


def wall_clock(fn: Callable[[], object], number: int) -> float:
    """Seconds for ``number`` calls of fn, by the wall clock (CPU work is synchronous)."""
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - start


def _warm_up(fn, seconds: float, clock) -> float:
    """Call fn for about ``seconds`` (at least once); the fastest call's seconds."""
    fastest, spent = math.inf, 0.0
    while spent < seconds or fastest == math.inf:
        t = clock(fn, 1)
        fastest, spent = min(fastest, t), spent + t
    return fastest


def measure(
    fns: Dict[str, Callable[[], object]],
    settings: Settings,
    clock: Callable[[Callable[[], object], int], float] = wall_clock,
) -> Dict[str, Timing]:
    """Time each of ``fns`` (name -> zero-argument call); returns name -> Timing."""
    warmup = max(settings.budget / settings.rounds * WARMUP_FRACTION, min(SETTLE, settings.budget))
    samples = {name: [] for name in fns}
    spent = {name: 0.0 for name in fns}
    number = {}
    for turn in range(1, settings.rounds + 1):
        # Where each system's totals must be after this turn.
        budget_so_far = settings.budget * turn / settings.rounds
        samples_so_far = math.ceil(settings.min_samples * turn / settings.rounds)
        for name, fn in fns.items():
            per_call = _warm_up(fn, warmup, clock)
            if name not in number:
                number[name] = max(1, int(settings.budget / SAMPLES_PER_BUDGET / max(per_call, 1e-9)))
            while len(samples[name]) < samples_so_far or spent[name] < budget_so_far:
                t = clock(fn, number[name])
                samples[name].append(t / number[name])
                spent[name] += t
    return {name: Timing(statistics.median(s), min(s), len(s), number[name]) for name, s in samples.items()}

"""Keras-style training progress.

On a terminal (verbose=1): a bar redrawn in place with the ETA and running
metrics, finished with time per step. Elsewhere (a log file, CI) or with
verbose=2: one line per epoch.
"""

from __future__ import annotations

import sys
import time


def _format_value(v) -> str:
    if isinstance(v, (int, float)) or getattr(v, "ndim", 1) == 0:
        return f"{float(v):.4f}"
    return "[" + ", ".join(f"{float(e):.4f}" for e in v) + "]"  # a per-class metric (F1Score(average=None))


def _format_logs(logs: dict) -> str:
    return "".join(f" - {k}: {_format_value(v)}" for k, v in logs.items())


def _format_duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:.0f}s"


def _per_step(seconds: float) -> str:
    return f"{seconds * 1e3:.0f}ms/step" if seconds >= 1e-3 else f"{seconds * 1e6:.0f}us/step"


class Progbar:
    width = 30

    def __init__(self, steps: int | None, verbose: int = 1, stream=None):
        """``steps`` None: a generator's epoch, whose length is known only at its end."""
        self.steps, self.stream = steps, stream or sys.stdout
        self.seen = 0
        self.interactive = verbose == 1 and getattr(self.stream, "isatty", lambda: False)()
        self.verbose = verbose
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def update(self, step: int, logs: dict) -> None:
        """Called after each batch (step counts from 1)."""
        self.seen = step
        if not self.interactive:
            return
        now = time.perf_counter()
        if (self.steps is None or step < self.steps) and now - self._last_draw < 0.05:
            return  # redraw at most 20 times a second
        self._last_draw = now
        if self.steps is None:
            self.stream.write(f"\r{step}/Unknown - {_format_duration(now - self.start)}{_format_logs(logs)}\x1b[K")
            self.stream.flush()
            return
        elapsed = now - self.start
        done = int(self.width * step / self.steps)
        bar = "=" * max(done - 1, 0) + (">" if done < self.width else "=") + "." * (self.width - done)
        eta = elapsed / step * (self.steps - step)
        digits = len(str(self.steps))
        self.stream.write(
            f"\r{step:>{digits}}/{self.steps} [{bar}] - ETA: {_format_duration(eta)}{_format_logs(logs)}\x1b[K"
        )
        self.stream.flush()

    def finish(self, logs: dict) -> None:
        if self.steps is None:
            self.steps = self.seen
        elapsed = time.perf_counter() - self.start
        timing = f"{_format_duration(elapsed)} {_per_step(elapsed / max(self.steps, 1))}"
        if self.interactive:
            digits = len(str(self.steps))
            line = f"\r{self.steps:>{digits}}/{self.steps} [{'=' * self.width}] - {timing}{_format_logs(logs)}\x1b[K\n"
        else:
            line = f"{self.steps}/{self.steps} - {timing}{_format_logs(logs)}\n"
        self.stream.write(line)
        self.stream.flush()

"""Learning-rate schedules, Keras 3's (``keras.optimizers.schedules``): a callable of the optimizer's step
count, accepted wherever a learning rate is.

    opt = Adam(learning_rate=schedules.ExponentialDecay(1e-3, decay_steps=1000, decay_rate=0.9))

The optimizer evaluates the schedule at ``optimizer.iterations`` (0 for the first update) before each step.
The values are computed in float64 (Keras computes them in float32; they agree to float32 rounding).
"""

from __future__ import annotations

import math
import numbers

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "get",
]


def _real(schedule: str, name: str, value, minimum: float | None = None, above: bool = False) -> float:
    """A finite real number (>= minimum, or > when ``above``), else an error naming the schedule and argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"[{schedule}] {name} must be a real number, got {type(value).__name__}")
    value = float(value)
    bad = not math.isfinite(value) or (minimum is not None and (value <= minimum if above else value < minimum))
    if bad:
        want = "a finite number" + ("" if minimum is None else f" {'>' if above else '>='} {minimum:g}")
        raise ValueError(f"[{schedule}] {name} must be {want}, got {value!r}")
    return value


class LearningRateSchedule:
    """Base class: subclasses define ``__call__(step) -> float`` and ``get_config()``."""

    def __call__(self, step) -> float:
        raise NotImplementedError(f"[{type(self).__name__}] a learning-rate schedule must define __call__(step)")

    def get_config(self) -> dict:
        raise NotImplementedError(f"[{type(self).__name__}] a learning-rate schedule must define get_config()")

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """initial_learning_rate * decay_rate ** (step / decay_steps); the exponent floored when ``staircase``."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        where = type(self).__name__
        self.initial_learning_rate = _real(where, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _real(where, "decay_steps", decay_steps, 0, above=True)
        self.decay_rate = _real(where, "decay_rate", decay_rate)
        self.staircase, self.name = bool(staircase), name

    def __call__(self, step) -> float:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class InverseTimeDecay(ExponentialDecay):
    """initial_learning_rate / (1 + decay_rate * step / decay_steps); the ratio floored when ``staircase``."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step) -> float:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i],
    values[-1] after the last boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        where = type(self).__name__
        if not isinstance(boundaries, (list, tuple)) or not isinstance(values, (list, tuple)):
            raise TypeError(
                f"[{where}] boundaries and values must be lists, got {type(boundaries).__name__} "
                f"and {type(values).__name__}"
            )
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"[{where}] values must have one more element than boundaries, got {len(boundaries)} "
                f"boundaries and {len(values)} values"
            )
        self.boundaries = [_real(where, f"boundaries[{i}]", b) for i, b in enumerate(boundaries)]
        if any(a >= b for a, b in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError(f"[{where}] boundaries must increase, got {list(boundaries)}")
        self.values = [_real(where, f"values[{i}]", v) for i, v in enumerate(values)]
        self.name = name

    def __call__(self, step) -> float:
        step = float(step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict:
        return {"boundaries": list(self.boundaries), "values": list(self.values), "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """(initial - end) * (1 - step / decay_steps) ** power + end, step held at decay_steps; with ``cycle``
    decay_steps grows to the next multiple of itself instead."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name="PolynomialDecay",
    ):
        where = type(self).__name__
        self.initial_learning_rate = _real(where, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _real(where, "decay_steps", decay_steps, 0, above=True)
        self.end_learning_rate = _real(where, "end_learning_rate", end_learning_rate)
        self.power = _real(where, "power", power)
        self.cycle, self.name = bool(cycle), name

    def __call__(self, step) -> float:
        step, decay_steps = float(step), self.decay_steps
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power + self.end_learning_rate

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """An optional linear warmup from initial_learning_rate to warmup_target over warmup_steps, then a cosine
    decay over decay_steps from there (initial_learning_rate without warmup) to alpha times it."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        name="CosineDecay",
        warmup_target=None,
        warmup_steps=0,
    ):
        where = type(self).__name__
        self.initial_learning_rate = _real(where, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _real(where, "decay_steps", decay_steps, 0, above=True)
        self.alpha = _real(where, "alpha", alpha)
        self.warmup_target = None if warmup_target is None else _real(where, "warmup_target", warmup_target)
        self.warmup_steps = _real(where, "warmup_steps", warmup_steps, 0)
        self.name = name

    def _decay(self, step: float, decay_from: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return decay_from * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step) -> float:
        step = float(step)
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return (self.warmup_target - self.initial_learning_rate) * fraction + self.initial_learning_rate
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


_BY_NAME = {
    cls.__name__: cls
    for cls in (ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, CosineDecay)
}


def serialize(schedule: LearningRateSchedule) -> dict:
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def get(spec) -> LearningRateSchedule:
    """A schedule, or one rebuilt from ``serialize``'s dict: only ranvier's own schedule classes load by name."""
    if isinstance(spec, LearningRateSchedule):
        return spec
    if isinstance(spec, dict) and set(spec) == {"class_name", "config"} and spec["class_name"] in _BY_NAME:
        return _BY_NAME[spec["class_name"]].from_config(dict(spec["config"]))
    raise ValueError(
        f"[schedules] expected a LearningRateSchedule or {{'class_name': one of {', '.join(_BY_NAME)}, "
        f"'config': dict}}, got {spec!r:.200}"
    )

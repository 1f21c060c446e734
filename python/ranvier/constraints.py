"""Weight constraints, Keras 3's (``keras.constraints``): a callable that takes a weight's array and returns
its projection, which the optimizer writes back into the weight after each update.

    Dense(64, kernel_constraint=constraints.MaxNorm(2.0), bias_constraint="non_neg")

They work on the NumPy or CuPy array itself (no gradient flows through them); a NaN stays NaN. A frozen
weight gets no update and so is never projected.
"""

from __future__ import annotations

import math
import numbers

from ranvier.device import array_module

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "get", "serialize"]

_EPSILON = 1e-7  # Keras' backend.epsilon(), added to the norms it divides by


def _real(constraint: str, name: str, value, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"[{constraint}] {name} must be a real number, got {type(value).__name__}")
    if not (math.isfinite(value) and value >= minimum):
        raise ValueError(f"[{constraint}] {name} must be a finite number >= {minimum:g}, got {value!r}")
    return float(value)


def _axis(constraint: str, axis):
    """An int or a list of ints (Keras' axis argument), kept as given for get_config."""
    ok = isinstance(axis, int) and not isinstance(axis, bool)
    if isinstance(axis, (list, tuple)):
        ok = bool(axis) and all(isinstance(a, int) and not isinstance(a, bool) for a in axis)
        axis = list(axis)
    if not ok:
        raise TypeError(f"[{constraint}] axis must be an int or a list of ints, got {axis!r}")
    return axis


def _norms(constraint: str, w, axis):
    """The L2 norms of w over ``axis``, kept as axes of size 1."""
    axes = tuple(axis) if isinstance(axis, list) else (axis,)
    if any(not -w.ndim <= a < w.ndim for a in axes):
        raise ValueError(f"[{constraint}] axis {axis} is out of range for a weight of shape {tuple(w.shape)}")
    return array_module(w).sqrt((w * w).sum(axis=axes, keepdims=True))


class Constraint:
    """Base class: ``__call__(w) -> array`` and ``get_config()``."""

    def __call__(self, w):
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class MaxNorm(Constraint):
    """Each slice along ``axis`` (Dense's kernel: each unit's incoming weights, axis 0) gets an L2 norm of at
    most ``max_value``: w * clip(norm, 0, max_value) / (epsilon + norm), as Keras."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = _real("MaxNorm", "max_value", max_value)
        self.axis = _axis("MaxNorm", axis)

    def __call__(self, w):
        norms = _norms("MaxNorm", w, self.axis)
        desired = array_module(w).clip(norms, 0, self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Norms moved into [min_value, max_value]: rate 1 projects at once, a smaller rate moves part-way."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _real("MinMaxNorm", "min_value", min_value)
        self.max_value = _real("MinMaxNorm", "max_value", max_value)
        if self.max_value < self.min_value:
            raise ValueError(f"[MinMaxNorm] max_value {max_value} is below min_value {min_value}")
        self.rate = _real("MinMaxNorm", "rate", rate)
        self.axis = _axis("MinMaxNorm", axis)

    def __call__(self, w):
        norms = _norms("MinMaxNorm", w, self.axis)
        clipped = array_module(w).clip(norms, self.min_value, self.max_value)
        desired = self.rate * clipped + (1 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    """max(w, 0) (a NaN stays NaN)."""

    def __call__(self, w):
        return array_module(w).maximum(w, 0)


class UnitNorm(Constraint):
    """Each slice along ``axis`` scaled to L2 norm 1: w / (epsilon + norm), as Keras."""

    def __init__(self, axis=0):
        self.axis = _axis("UnitNorm", axis)

    def __call__(self, w):
        return w / (_EPSILON + _norms("UnitNorm", w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


_BY_NAME = {"max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm}
_CLASSES = {cls.__name__: cls for cls in _BY_NAME.values()}


def serialize(constraint, where: str = "constraint") -> dict | None:
    """``{"class_name", "config"}`` of one of ranvier's constraints (what ``get`` loads back), None for None."""
    if constraint is None:
        return None
    if type(constraint).__name__ not in _CLASSES or type(constraint) is not _CLASSES[type(constraint).__name__]:
        raise ValueError(
            f"[{where}] cannot save the constraint {constraint!r:.100}: a file may name only ranvier's own "
            f"constraints ({', '.join(_CLASSES)}); save the weights with save_weights and rebuild the model in code"
        )
    return {"class_name": type(constraint).__name__, "config": constraint.get_config()}


def get(spec, where: str = "constraint"):
    """None, a Constraint (or any callable), a name ("max_norm", "min_max_norm", "non_neg", "unit_norm") or
    ``serialize``'s dict: only ranvier's own classes load by name."""
    if spec is None or isinstance(spec, Constraint):
        return spec
    if isinstance(spec, str) and spec.lower() in _BY_NAME:
        return _BY_NAME[spec.lower()]()
    if isinstance(spec, dict) and set(spec) == {"class_name", "config"} and spec["class_name"] in _CLASSES:
        if not isinstance(spec["config"], dict):
            raise TypeError(f"[{where}] a constraint's config must be a dict, got {spec['config']!r:.100}")
        return _CLASSES[spec["class_name"]].from_config(dict(spec["config"]))
    if callable(spec) and not isinstance(spec, (str, dict, type)):
        return spec
    raise ValueError(
        f"[{where}] expected None, a Constraint, one of {', '.join(map(repr, _BY_NAME))} or "
        f"{{'class_name': one of {', '.join(_CLASSES)}, 'config': dict}}, got {spec!r:.200}"
    )

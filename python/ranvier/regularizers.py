"""Weight and activity regularizers, Keras 3's (``keras.regularizers``): a callable that takes a weight
(or a layer's output) Tensor and returns a scalar penalty Tensor, differentiable, which training adds to
the loss.

    Dense(64, kernel_regularizer=regularizers.L2(1e-4), bias_regularizer="l1")

A layer's ``losses`` lists the penalties of its current weights and of its last output; ``Model.fit`` adds
their sum to the loss it minimizes.
"""

from __future__ import annotations

import math
import numbers

from ranvier.device import array_module
from ranvier.tensor import Tensor

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "get", "serialize"]


def _factor(regularizer: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"[{regularizer}] {name} must be a real number, got {type(value).__name__}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"[{regularizer}] {name} must be a finite number >= 0, got {value!r}")
    return float(value)


class Regularizer:
    """Base class: ``__call__(x) -> scalar Tensor`` and ``get_config()``."""

    def __call__(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"[{type(self).__name__}] a regularizer must define __call__(x)")

    def get_config(self) -> dict:
        raise NotImplementedError(f"[{type(self).__name__}] a regularizer must define get_config()")

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x^2); both default 0, as Keras."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(type(self).__name__, "l1", l1)
        self.l2 = _factor(type(self).__name__, "l2", l2)

    def __call__(self, x):
        penalty = Tensor(x.data.dtype.type(0) * x.data.sum())  # 0 on x's device (NaN if x holds one)
        if self.l1:
            penalty = penalty + x.abs().sum() * self.l1
        if self.l2:
            penalty = penalty + (x * x).sum() * self.l2
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """l1 * sum(|x|); l1 defaults to 0.01, as Keras."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """l2 * sum(x^2); l2 defaults to 0.01, as Keras (no 1/2 factor)."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows ("rows") or columns ("columns") of a 2-D weight towards orthogonality, as Keras:
    factor * mean over pairs of |cosine| between the L2-normalized vectors (norms held >= 1e-7)."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _factor(type(self).__name__, "factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(f"[OrthogonalRegularizer] mode must be 'rows' or 'columns', got {mode!r}")
        self.mode = mode

    def __call__(self, x):
        if x.ndim != 2:
            raise ValueError(f"[OrthogonalRegularizer] takes a 2-D weight, got shape {tuple(x.shape)}")
        vectors = x if self.mode == "rows" else x.T
        norms = (vectors * vectors).sum(axis=1, keepdims=True).sqrt().clamp(min=1e-7)
        unit = vectors / norms
        size = unit.shape[0]
        if size < 2:  # Keras divides 0 by 0 pairs here: NaN in the loss
            raise ValueError(
                f"[OrthogonalRegularizer] mode {self.mode!r} needs at least 2 {self.mode}, got a weight of "
                f"shape {tuple(x.shape)}"
            )
        xp = array_module(x.data)
        off_diagonal = Tensor(1 - xp.eye(size, dtype=x.data.dtype))
        products = (unit @ unit.T) * off_diagonal
        return products.abs().sum() * (self.factor * 0.5 / (size * (size - 1) / 2))

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer}
_CLASSES = {cls.__name__: cls for cls in (L1, L2, L1L2, OrthogonalRegularizer)}


def serialize(regularizer, where: str = "regularizer") -> dict | None:
    """``{"class_name", "config"}`` of one of ranvier's regularizers (what ``get`` loads back), None for None."""
    if regularizer is None:
        return None
    if type(regularizer).__name__ not in _CLASSES or type(regularizer) is not _CLASSES[type(regularizer).__name__]:
        raise ValueError(
            f"[{where}] cannot save the regularizer {regularizer!r:.100}: a file may name only ranvier's own "
            f"regularizers ({', '.join(_CLASSES)}); save the weights with save_weights and rebuild the model in code"
        )
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def get(spec, where: str = "regularizer"):
    """None, a Regularizer (or any callable), a name ("l1", "l2", "l1_l2", with Keras' default factors) or
    ``serialize``'s dict: only ranvier's own classes load by name (a saved file runs no foreign code)."""
    if spec is None or isinstance(spec, Regularizer):
        return spec
    if isinstance(spec, str) and spec.lower() in _BY_NAME:
        return _BY_NAME[spec.lower()]()
    if isinstance(spec, dict) and set(spec) == {"class_name", "config"} and spec["class_name"] in _CLASSES:
        if not isinstance(spec["config"], dict):
            raise TypeError(f"[{where}] a regularizer's config must be a dict, got {spec['config']!r:.100}")
        return _CLASSES[spec["class_name"]].from_config(dict(spec["config"]))
    if callable(spec) and not isinstance(spec, (str, dict, type)):
        return spec
    raise ValueError(
        f"[{where}] expected None, a Regularizer, one of {', '.join(map(repr, _BY_NAME))} or "
        f"{{'class_name': one of {', '.join(_CLASSES)}, 'config': dict}}, got {spec!r:.200}"
    )

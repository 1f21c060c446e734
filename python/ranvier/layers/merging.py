"""Merge layers (Keras 3): combine a list of tensors into one.

``Concatenate(axis=-1)`` joins along an axis; ``Add``, ``Subtract`` (two
inputs), ``Multiply``, ``Average``, ``Maximum`` and ``Minimum`` work element
by element, broadcasting axes of size 1 as Keras does. The lowercase functions
(``layers.concatenate([a, b])``) make the layer and call it, as in Keras.
"""

from __future__ import annotations

from functools import reduce

from ranvier import functional as F
from ranvier.layers.base import Layer, check_int, shape_str
from ranvier.layers.symbolic import is_symbolic, symbolic_call
from ranvier.tensor import Tensor


class _Merge(Layer):
    """Takes a list of at least ``min_inputs`` tensors; subclasses check shapes in ``check_shapes``."""

    min_inputs = 2
    max_inputs = None

    def __call__(self, inputs, *args, **kwargs):
        if is_symbolic((inputs, args, kwargs)):
            if isinstance(inputs, (list, tuple)) and all(hasattr(t, "shape") for t in inputs):
                self._check_count(inputs)
                self.check_shapes([t.shape for t in inputs])  # named with the free batch axis
            return symbolic_call(self, inputs, args, kwargs)
        if args or kwargs:
            raise TypeError(f"[{self._label()}] takes one list of tensors, got extra arguments")
        tensors = self._as_tensors(inputs)
        self.check_shapes([t.shape for t in tensors])
        if not self.built:
            self.built = True
            self.build_input_shape = tuple(tensors[0].shape[1:])
        y = self.call(tensors)
        self.output_shape = (None,) + tuple(y.shape[1:])
        return y

    def _label(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def _as_tensors(self, inputs) -> list:
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(f"[{self._label()}] inputs must be a list of tensors, got {type(inputs).__name__}")
        self._check_count(inputs)
        return [t if isinstance(t, Tensor) else Tensor(t) for t in inputs]

    def _check_count(self, inputs) -> None:
        count = len(inputs)
        if count < self.min_inputs or (self.max_inputs is not None and count > self.max_inputs):
            wanted = (
                f"exactly {self.max_inputs}" if self.max_inputs == self.min_inputs else f"at least {self.min_inputs}"
            )
            raise ValueError(f"[{self._label()}] inputs must be a list of {wanted} tensors, got {count}")

    def check_shapes(self, shapes: list) -> None:
        """Element-wise merges: the same rank and, per axis, equal sizes or 1 (broadcast); None (a free
        axis of a symbolic input) matches anything."""
        first = shapes[0]
        for shape in shapes[1:]:
            ok = len(shape) == len(first) and all(_fits(a, b) or a == 1 or b == 1 for a, b in zip(shape, first))
            if not ok:
                raise ValueError(
                    f"[{self._label()}] inputs must have the same shape (axes of size 1 broadcast), got "
                    f"{', '.join(shape_str(tuple(s)) for s in shapes)}"
                )


def _fits(a, b) -> bool:
    return a is None or b is None or a == b


class Add(_Merge):
    """The sum of the inputs."""

    def call(self, inputs):
        return reduce(F.add, inputs)


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    max_inputs = 2

    def call(self, inputs):
        return F.sub(inputs[0], inputs[1])


class Multiply(_Merge):
    """The element-wise product of the inputs."""

    def call(self, inputs):
        return reduce(F.mul, inputs)


class Average(_Merge):
    """The element-wise mean of the inputs."""

    def call(self, inputs):
        return F.mul(reduce(F.add, inputs), 1.0 / len(inputs))


class Maximum(_Merge):
    """The element-wise largest input (gradient as ``ranvier.functional.maximum``: halved on ties)."""

    def call(self, inputs):
        return reduce(F.maximum, inputs)


class Minimum(_Merge):
    """The element-wise smallest input."""

    def call(self, inputs):
        return reduce(F.minimum, inputs)


class Concatenate(_Merge):
    """The inputs joined along ``axis`` (default the last); every other axis must match."""

    min_inputs = 1

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_int(axis, f"Concatenate '{self.name}'", "axis", -(2**31), 2**31 - 1)

    def check_shapes(self, shapes: list) -> None:
        rank = len(shapes[0])
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"[{self._label()}] axis={self.axis} must name a non-batch axis of inputs of rank {rank}")
        axis = self.axis % rank
        for shape in shapes:
            same = len(shape) == rank and all(
                _fits(a, b) for i, (a, b) in enumerate(zip(shape, shapes[0])) if i != axis
            )
            if not same:
                raise ValueError(
                    f"[{self._label()}] inputs must match on every axis but axis {self.axis}, got "
                    f"{', '.join(shape_str(tuple(s)) for s in shapes)}"
                )

    def call(self, inputs):
        return F.concatenate(inputs, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis: int = -1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)

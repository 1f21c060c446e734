"""Nested data as Keras takes it: an array, or a list/tuple/dict of arrays (multi-input x, multi-output y)."""

from __future__ import annotations

import numpy as np

from ranvier.device import is_gpu_array
from ranvier.tensor import Tensor


def is_array(a) -> bool:
    """An array leaf: NumPy, CuPy, a ranvier Tensor, or anything NumPy reads as an array (``__array__``:
    a pandas frame, a CPU torch tensor)."""
    return isinstance(a, (np.ndarray, Tensor)) or is_gpu_array(a) or hasattr(a, "__array__")


def is_nested(x) -> bool:
    """A dict, or a list/tuple whose items are arrays or nested themselves (a list of plain numbers is
    one array leaf, as ``np.asarray`` reads it)."""
    if isinstance(x, dict):
        return True
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(is_array(a) or is_nested(a) for a in x)


def map_leaves(fn, x):
    """``x`` with ``fn`` applied to every leaf, the structure kept (lists stay lists, tuples tuples)."""
    if isinstance(x, dict):
        return {k: map_leaves(fn, v) for k, v in x.items()}
    if is_nested(x):
        return type(x)(map_leaves(fn, a) for a in x)
    return fn(x)


def leaves(x) -> list:
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in leaves(v)]
    if is_nested(x):
        return [leaf for a in x for leaf in leaves(a)]
    return [x]


def num_samples(x) -> int:
    """The batch length of a structure: its first leaf's first axis."""
    first = leaves(x)[0]
    return int(first.shape[0]) if hasattr(first, "shape") else len(first)


def take(x, index):
    """The samples ``index`` (an integer array or a slice) of every leaf."""
    return None if x is None else map_leaves(lambda a: a[index], x)


def describe(x) -> str:
    """A short description of a structure for error messages: shapes of its leaves."""
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in x.items()) + "}"
    if is_nested(x):
        inner = ", ".join(describe(a) for a in x)
        return f"[{inner}]" if isinstance(x, list) else f"({inner})"
    shape = getattr(x, "shape", None)
    return f"array of shape {tuple(shape)}" if shape is not None else type(x).__name__


def to_host_array(a) -> np.ndarray:
    if isinstance(a, Tensor):
        a = a.data
    return a.get() if is_gpu_array(a) else np.asarray(a)


def device_of_leaves(x) -> str:
    return "cuda" if is_gpu_array(leaves(x)[0]) else "cpu"

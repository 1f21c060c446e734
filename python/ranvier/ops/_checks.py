"""Argument checks at the boundary of every op.

Every message starts with the op's name in brackets and names the argument:
``[conv2d] x must be (N, H, W, C) float32, got (28, 28) float64``.
Inputs are never converted to another dtype: a float64 array is an error, not
a silent copy.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ranvier import backend

ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu")


def describe(a) -> str:
    shape = tuple(int(d) for d in a.shape)
    return f"{shape} {a.dtype}"


def as_array(op: str, name: str, x):
    """NumPy or CuPy array for ``x`` without copying.

    NumPy and CuPy arrays pass through; other CPU arrays (a PyTorch CPU tensor,
    say) are viewed through DLPack or the array interface.
    """
    if isinstance(x, np.ndarray) or backend.is_cupy(x):
        return x
    if hasattr(x, "__dlpack__"):
        try:
            return np.from_dlpack(x)
        except (TypeError, BufferError, RuntimeError):
            pass  # e.g. a GPU tensor: fall through to the error below
    if hasattr(x, "__array_interface__") or hasattr(x, "__array__"):
        if not isinstance(x, (list, tuple)):
            return np.asarray(x)
    raise TypeError(
        f"[{op}] {name} must be an array (NumPy, CuPy, or a CPU array with DLPack), "
        f"got {type(x).__name__}"
    )


def float32(op: str, name: str, x, layout: str | None = None, ndim=None):
    """``x`` as a float32 array of the given rank (an int or a tuple of ints).

    ``layout`` (e.g. "(N, H, W, C)") is only used to make the message clearer.
    """
    a = as_array(op, name, x)
    ranks = (ndim,) if isinstance(ndim, int) else ndim
    wrong_rank = ranks is not None and a.ndim not in ranks
    if a.dtype != np.float32 or wrong_rank:
        if layout is not None:
            want = f"{layout} float32"
        elif ranks is not None:
            want = f"a float32 array of rank {' or '.join(map(str, ranks))}"
        else:
            want = "a float32 array"
        raise (ValueError if wrong_rank else TypeError)(f"[{op}] {name} must be {want}, got {describe(a)}")
    return a


def same_device(op: str, **arrays) -> None:
    """All arrays on the CPU, or all on the GPU."""
    if all(type(a) is np.ndarray or a is None for a in arrays.values()):
        return  # the common case, decided without building anything
    kinds = {name: backend.is_cupy(a) for name, a in arrays.items() if a is not None}
    if len(set(kinds.values())) > 1:
        where = ", ".join(f"{n} on {'GPU' if g else 'CPU'}" for n, g in kinds.items())
        raise ValueError(f"[{op}] arrays must all be on the same device, got {where}")


def activation(op: str, act) -> str:
    """Normalise an activation argument: None -> "none"; unknown names are an error."""
    if act is None or act == "linear":
        return "none"
    if not isinstance(act, str) or act not in ACTIVATIONS:
        raise ValueError(f"[{op}] activation must be None or one of {', '.join(ACTIVATIONS)}, got {act!r}")
    return act


def contiguous(a):
    """A C-contiguous version of ``a`` (the same array when it already is)."""
    xp = backend.array_module(a)
    return a if a.flags.c_contiguous else xp.ascontiguousarray(a)


def real(op: str, name: str, value, low=None, high=None, high_open: bool = False) -> float:
    """``value`` as a float: a finite real number in [low, high] (or [low, high))."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"[{op}] {name} must be a real number, got {type(value).__name__}")
    v = float(value)
    in_range = math.isfinite(v) and (low is None or v >= low)
    if high is not None:
        in_range = in_range and (v < high if high_open else v <= high)
    if not in_range:
        if high is None:
            want = f"a finite number >= {low}" if low is not None else "a finite number"
        else:
            want = f"in [{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"[{op}] {name} must be {want}, got {value!r}")
    return v


def integer(op: str, name: str, value, low=None, high=None) -> int:
    """``value`` as an int in [low, high)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"[{op}] {name} must be an integer, got {type(value).__name__}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v >= high):
        want = f">= {low}" if high is None else f"in [{low}, {high})"
        raise ValueError(f"[{op}] {name} must be an integer {want}, got {v}")
    return v


def saved_for_backward(op: str, act: str, y, z, expected_shape):
    """The forward array an activation's derivative needs, checked and contiguous.

    relu, sigmoid and tanh need the forward output ``y``; gelu the
    pre-activation ``z``; no activation needs neither (returns None).
    """
    if act == "none":
        return None
    name, saved = ("z", z) if act == "gelu" else ("y", y)
    if saved is None:
        what = "pre-activation" if name == "z" else "output"
        raise ValueError(f"[{op}] activation {act!r} needs {name}= (the forward {what})")
    saved = float32(op, name, saved)
    if tuple(saved.shape) != tuple(expected_shape):
        raise ValueError(f"[{op}] {name} must be {tuple(expected_shape)} float32, got {describe(saved)}")
    return contiguous(saved)

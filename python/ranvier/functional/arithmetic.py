"""Element-wise arithmetic, reductions and shape functions on Tensors (array math)."""

from __future__ import annotations

import collections

import numpy as np

from ranvier.device import array_module
from ranvier.tensor import Tensor, make_result


def as_tensor(x, like: Tensor | None = None) -> Tensor:
    """Tensors pass through; scalars and arrays become constant Tensors (float32 for Python floats)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and not hasattr(x, "shape"):
        return Tensor(array_module(like.data).asarray(x, dtype=_weak_dtype(x, like.dtype)))
    return Tensor(x)


_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


def _weak_dtype(value, strong_dtype):
    """The dtype a scalar or 0-d operand takes beside a tensor of ``strong_dtype`` (PyTorch's rule):
    the tensor's own when the scalar's kind (bool < integer < float) is no higher, else float32."""
    kind = np.asarray(value).dtype.kind
    if _CATEGORY.get(kind, 3) <= _CATEGORY.get(np.dtype(strong_dtype).kind, 3):
        return strong_dtype
    return np.float32 if kind == "f" else np.asarray(value).dtype


def _unbroadcast(grad, shape):
    """Sum grad over the axes that broadcasting added or stretched, to match shape."""
    if tuple(grad.shape) == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(i + extra for i, d in enumerate(shape) if d == 1 and grad.shape[i + extra] != 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape) if axes else grad.reshape(shape)


# ---- element-wise arithmetic -----------------------------------------------------
def add(a, b) -> Tensor:
    a, b = _pair(a, b)
    return make_result(a.data + b.data, (a, b), lambda g: (_unbroadcast(g, a.shape), _unbroadcast(g, b.shape)))


def sub(a, b) -> Tensor:
    a, b = _pair(a, b)
    return make_result(a.data - b.data, (a, b), lambda g: (_unbroadcast(g, a.shape), _unbroadcast(-g, b.shape)))


def mul(a, b) -> Tensor:
    a, b = _pair(a, b)
    return make_result(
        a.data * b.data, (a, b), lambda g: (_unbroadcast(g * b.data, a.shape), _unbroadcast(g * a.data, b.shape))
    )


def div(a, b) -> Tensor:
    a, b = _pair(a, b)
    return make_result(
        a.data / b.data,
        (a, b),
        lambda g: (_unbroadcast(g / b.data, a.shape), _unbroadcast(-g * a.data / (b.data * b.data), b.shape)),
    )


def neg(a) -> Tensor:
    a = as_tensor(a)
    return make_result(-a.data, (a,), lambda g: (-g,))


def power(a, exponent) -> Tensor:
    """a ** exponent, differentiable in both when the exponent is a Tensor."""
    if not isinstance(exponent, Tensor) and not hasattr(exponent, "shape"):
        a = as_tensor(a)
        return make_result(a.data**exponent, (a,), lambda g: (g * exponent * a.data ** (exponent - 1),))
    a, b = _pair(a, exponent)
    xp = array_module(a.data)
    y = a.data**b.data

    def backward(g):
        da = _unbroadcast(g * b.data * a.data ** (b.data - 1), a.shape)
        db = _unbroadcast(g * y * xp.log(a.data), b.shape) if b.requires_grad else None
        return da, db

    return make_result(y, (a, b), backward)


def exp(a) -> Tensor:
    a = as_tensor(a)
    xp = array_module(a.data)
    y = xp.exp(a.data)
    return make_result(y, (a,), lambda g: (g * y,))


def log(a) -> Tensor:
    a = as_tensor(a)
    xp = array_module(a.data)
    return make_result(xp.log(a.data), (a,), lambda g: (g / a.data,))


def sqrt(a) -> Tensor:
    a = as_tensor(a)
    xp = array_module(a.data)
    y = xp.sqrt(a.data)
    return make_result(y, (a,), lambda g: (g * 0.5 / y,))


def abs(a) -> Tensor:  # noqa: A001 - the name users expect
    a = as_tensor(a)
    xp = array_module(a.data)
    return make_result(xp.abs(a.data), (a,), lambda g: (g * xp.sign(a.data),))


def clip(a, low: float, high: float) -> Tensor:
    """Values limited to [low, high]; the gradient passes where they were inside."""
    a = as_tensor(a)
    xp = array_module(a.data)
    inside = (a.data >= low) & (a.data <= high)
    return make_result(xp.clip(a.data, low, high), (a,), lambda g: (g * inside,))


def _pair(a, b):
    """Both operands as Tensors, with PyTorch's rule for a scalar or 0-d operand beside a tensor with
    dimensions: it takes that tensor's dtype unless its kind is higher (``t * np.float64(2)`` stays
    float32), and a float scalar beside integers makes both float32 (``ints * 0.5``)."""
    a_given, b_given = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_given:
        b = as_tensor(b, like=a)
    else:
        b = as_tensor(b)
        a = as_tensor(a, like=b)
    if a.ndim and not b.ndim and not (b_given and b.requires_grad):
        b, a = _promoted(b, a)
    elif b.ndim and not a.ndim and not (a_given and a.requires_grad):
        a, b = _promoted(a, b)
    return a, b


def _promoted(weak: Tensor, strong: Tensor) -> tuple:
    dtype = _weak_dtype(weak.data, strong.dtype)
    if dtype != weak.dtype:
        weak = Tensor(weak.data.astype(dtype))
    if dtype != strong.dtype and not strong.requires_grad:
        strong = Tensor(strong.data.astype(dtype))
    return weak, strong


# ---- reductions and shapes -----------------------------------------------------------
def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(ax % ndim for ax in axes)


def sum(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    a = as_tensor(a)
    axes = _normalize_axes(axis, a.ndim)
    y = a.data.sum(axis=axes, keepdims=keepdims)
    xp = array_module(a.data)

    def backward(g):
        if not keepdims:
            g = xp.expand_dims(g, axes) if axes else g
        return (xp.broadcast_to(g, a.shape).astype(a.dtype, copy=True),)

    return make_result(y, (a,), backward)


def mean(a, axis=None, keepdims: bool = False) -> Tensor:
    a = as_tensor(a)
    axes = _normalize_axes(axis, a.ndim)
    count = int(np.prod([a.shape[ax] for ax in axes])) if axes else 1
    return mul(sum(a, axis=axes, keepdims=keepdims), 1.0 / (count or 1))


def clone(a) -> Tensor:
    """A copy of the values that stays in the graph (the gradient passes unchanged)."""
    a = as_tensor(a)
    return make_result(a.data.copy(), (a,), lambda g: (g,))


# ---- comparisons and selection --------------------------------------------------------
def compare(a, b, op: str) -> Tensor:
    """Element-wise ``a <op> b`` ("eq", "ne", "lt", "le", "gt", "ge") as a bool Tensor without grad."""
    a, b = _pair(a, b)
    xp = array_module(a.data)
    return Tensor(getattr(xp, _COMPARISONS[op])(a.data, b.data))


_COMPARISONS = {
    "eq": "equal",
    "ne": "not_equal",
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
}


def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (broadcast); the gradient goes to the chosen side."""
    condition = condition.data if isinstance(condition, Tensor) else condition
    a, b = _pair(a, b)
    xp = array_module(a.data)
    condition = xp.asarray(condition, dtype=bool)
    return make_result(
        xp.where(condition, a.data, b.data),
        (a, b),
        lambda g: (_unbroadcast(xp.where(condition, g, 0), a.shape), _unbroadcast(xp.where(condition, 0, g), b.shape)),
    )


def clamp(a, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's argument names
    """Values limited to [min, max] (either may be None); NaN stays NaN. The gradient passes where the
    value was not outside the bounds (at a bound too, as PyTorch)."""
    if min is None and max is None:
        raise ValueError("[clamp] give min, max or both, got neither")
    a = as_tensor(a)
    xp = array_module(a.data)
    y, outside = a.data, xp.zeros(a.shape, dtype=bool)
    if min is not None:
        outside |= a.data < min
        y = xp.where(a.data < min, xp.asarray(min, dtype=a.dtype), y)
    if max is not None:
        outside |= a.data > max
        y = xp.where(a.data > max, xp.asarray(max, dtype=a.dtype), y)
    return make_result(y, (a,), lambda g: (xp.where(outside, 0, g),))


def maximum(a, b) -> Tensor:
    """Element-wise larger of ``a`` and ``b`` (broadcast); NaN propagates, as NumPy and PyTorch. The
    gradient goes to the larger side, half to each on a tie (PyTorch's rule), all to a NaN side."""
    return _pairwise_extreme(a, b, "max")


def minimum(a, b) -> Tensor:
    """Element-wise smaller of ``a`` and ``b``; ties and NaN as ``maximum``."""
    return _pairwise_extreme(a, b, "min")


def _pairwise_extreme(a, b, which: str) -> Tensor:
    a, b = _pair(a, b)
    xp = array_module(a.data)
    pick, wins = (xp.maximum, xp.greater) if which == "max" else (xp.minimum, xp.less)
    tie = a.data == b.data
    a_share = xp.where(tie, 0.5, wins(a.data, b.data) | xp.isnan(a.data))
    b_share = xp.where(tie, 0.5, wins(b.data, a.data) | xp.isnan(b.data))

    def backward(g):
        return (
            _unbroadcast((g * a_share).astype(a.dtype, copy=False), a.shape),
            _unbroadcast((g * b_share).astype(b.dtype, copy=False), b.shape),
        )

    return make_result(pick(a.data, b.data), (a, b), backward)


MaxMin = collections.namedtuple("MaxMin", "values indices")


def max(a, dim=None, keepdim: bool = False):  # noqa: A001
    """The largest value (``dim=None``: a 0-d Tensor, the gradient shared by ties) or, along ``dim``,
    ``(values, indices)`` as PyTorch (the gradient to the first largest). NaN is the largest."""
    return _extreme(a, dim, keepdim, "max")


def min(a, dim=None, keepdim: bool = False):  # noqa: A001
    """As ``max`` for the smallest value (NaN is the smallest too, as in PyTorch: it propagates)."""
    return _extreme(a, dim, keepdim, "min")


def argmax(a, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (of the flattened tensor when ``dim`` is None), int64, no grad."""
    return _arg_extreme(a, dim, keepdim, "max")


def argmin(a, dim=None, keepdim: bool = False) -> Tensor:
    return _arg_extreme(a, dim, keepdim, "min")


def _arg_extreme(a, dim, keepdim: bool, which: str) -> Tensor:
    a = as_tensor(a)
    xp = array_module(a.data)
    arg = xp.argmax if which == "max" else xp.argmin  # both return the first NaN's index, as PyTorch
    if dim is None:
        return Tensor(xp.asarray(arg(a.data), dtype=xp.int64).reshape((1,) * a.ndim if keepdim else ()))
    return Tensor(arg(a.data, axis=dim, keepdims=keepdim).astype(xp.int64))


def _extreme(a, dim, keepdim: bool, which: str):
    a = as_tensor(a)
    xp = array_module(a.data)
    reduce = xp.max if which == "max" else xp.min
    if dim is None:
        y = reduce(a.data)

        def backward(g):
            ties = (a.data == y) | (xp.isnan(a.data) & xp.isnan(y))
            return (xp.where(ties, g / ties.sum(), 0).astype(a.dtype),)

        return make_result(y, (a,), backward)
    dim = dim % a.ndim
    indices = _arg_extreme(a, dim, True, which).data
    values = xp.take_along_axis(a.data, indices, axis=dim)

    def backward(g):
        full = xp.zeros(a.shape, dtype=a.dtype)
        full[along_axis(indices, dim)] = g if keepdim else xp.expand_dims(g, dim)
        return (full,)

    out = make_result(values if keepdim else values.squeeze(dim), (a,), backward)
    return MaxMin(out, Tensor(indices if keepdim else indices.squeeze(dim)))


def along_axis(index, dim: int) -> tuple:
    """The fancy index that picks ``index``'s entries along ``dim`` (take_along_axis as a[...]),
    built from broadcast ranges so that NumPy and CuPy read and write it alike."""
    xp = array_module(index)
    ranges = [xp.arange(n).reshape((1,) * i + (n,) + (1,) * (index.ndim - i - 1)) for i, n in enumerate(index.shape)]
    ranges[dim] = index
    return tuple(ranges)

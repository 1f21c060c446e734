"""Element-wise arithmetic, reductions and shape functions on Tensors (array math)."""

from __future__ import annotations

import numpy as np

from ranvier.device import array_module
from ranvier.tensor import Tensor, make_result


def as_tensor(x, like: Tensor | None = None) -> Tensor:
    """Tensors pass through; scalars and arrays become constant Tensors (float32 for floats)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and not hasattr(x, "shape"):
        return Tensor(array_module(like.data).asarray(x, dtype=like.dtype))
    return Tensor(x)


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


def power(a, exponent: float) -> Tensor:
    """a ** exponent for a constant exponent."""
    a = as_tensor(a)
    return make_result(a.data**exponent, (a,), lambda g: (g * exponent * a.data ** (exponent - 1),))


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
    if isinstance(a, Tensor):
        return a, as_tensor(b, like=a)
    b = as_tensor(b)
    return as_tensor(a, like=b), b


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
    return mul(sum(a, axis=axes, keepdims=keepdims), 1.0 / max(count, 1))


def reshape(a, *shape) -> Tensor:
    a = as_tensor(a)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return make_result(a.data.reshape(shape), (a,), lambda g: (g.reshape(a.shape),))


def flatten(a, start_axis: int = 1) -> Tensor:
    """(N, d1, d2, ...) -> (N, d1*d2*...), keeping the leading axes before start_axis."""
    a = as_tensor(a)
    return reshape(a, a.shape[:start_axis] + (-1,))


def transpose(a, axes=None) -> Tensor:
    a = as_tensor(a)
    axes = tuple(reversed(range(a.ndim))) if axes is None else tuple(ax % a.ndim for ax in axes)
    inverse = tuple(int(i) for i in np.argsort(axes))
    return make_result(a.data.transpose(axes), (a,), lambda g: (g.transpose(inverse),))


def getitem(a, index) -> Tensor:
    a = as_tensor(a)
    if isinstance(index, Tensor):
        index = index.data
    xp = array_module(a.data)

    def backward(g):
        full = xp.zeros(a.shape, dtype=g.dtype)
        xp.add.at(full, index, g)  # repeated indices accumulate
        return (full,)

    return make_result(a.data[index], (a,), backward)


def concatenate(tensors, axis: int = 0) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    xp = array_module(tensors[0].data)
    axis = axis % tensors[0].ndim
    bounds = np.cumsum([t.shape[axis] for t in tensors])[:-1]

    def backward(g):
        return tuple(xp.split(g, [int(b) for b in bounds], axis=axis))

    return make_result(xp.concatenate([t.data for t in tensors], axis=axis), tuple(tensors), backward)


def stack(tensors, axis: int = 0) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    return concatenate(
        [reshape(t, t.shape[: axis % (t.ndim + 1)] + (1,) + t.shape[axis % (t.ndim + 1) :]) for t in tensors], axis=axis
    )

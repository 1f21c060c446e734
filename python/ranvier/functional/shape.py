"""Shape, indexing and joining functions on Tensors (no kernels: array views and copies)."""

from __future__ import annotations

import numpy as np

from ranvier.device import array_module
from ranvier.functional.arithmetic import _unbroadcast, along_axis, as_tensor
from ranvier.tensor import Tensor, make_result


def _sizes(sizes) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` alike."""
    return tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)


def reshape(a, *shape) -> Tensor:
    a = as_tensor(a)
    return make_result(a.data.reshape(_sizes(shape)), (a,), lambda g: (g.reshape(a.shape),))


def flatten(a, start_axis: int = 1, end_axis: int = -1) -> Tensor:
    """Axes start_axis..end_axis merged into one: (N, d1, d2, ...) -> (N, d1*d2*...) by default."""
    a = as_tensor(a)
    if a.ndim == 0:
        return reshape(a, (1,))
    start, end = start_axis % a.ndim, end_axis % a.ndim
    return reshape(a, a.shape[:start] + (-1,) + a.shape[end + 1 :])


def transpose(a, axes=None) -> Tensor:
    """Axes permuted as ``axes`` (NumPy's transpose), reversed when None."""
    a = as_tensor(a)
    axes = tuple(reversed(range(a.ndim))) if axes is None else tuple(ax % a.ndim for ax in axes)
    inverse = tuple(int(i) for i in np.argsort(axes))
    return make_result(a.data.transpose(axes), (a,), lambda g: (g.transpose(inverse),))


def swapaxes(a, dim0: int, dim1: int) -> Tensor:
    """Axes dim0 and dim1 exchanged (PyTorch's ``transpose(dim0, dim1)``)."""
    a = as_tensor(a)
    axes = list(range(a.ndim))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return transpose(a, axes)


def squeeze(a, dim=None) -> Tensor:
    """Axes of size 1 removed: all of them, or ``dim`` (an int or tuple) where its size is 1, as PyTorch."""
    a = as_tensor(a)
    dims = range(a.ndim) if dim is None else ((dim,) if isinstance(dim, int) else dim)
    dims = {d % a.ndim for d in dims} if a.ndim else set()
    return reshape(a, tuple(n for i, n in enumerate(a.shape) if not (i in dims and n == 1)))


def unsqueeze(a, dim: int) -> Tensor:
    """A new axis of size 1 at ``dim`` (negative counts from the end of the result, as PyTorch)."""
    a = as_tensor(a)
    dim = dim % (a.ndim + 1)
    return reshape(a, a.shape[:dim] + (1,) + a.shape[dim:])


def expand(a, *sizes) -> Tensor:
    """A broadcast view to ``sizes`` (-1 keeps an axis); the gradient sums over the stretched axes."""
    a = as_tensor(a)
    sizes = _sizes(sizes)
    lead = len(sizes) - a.ndim
    shape = tuple(a.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
    xp = array_module(a.data)
    return make_result(xp.broadcast_to(a.data, shape), (a,), lambda g: (_unbroadcast(g, a.shape),))


def repeat(a, *repeats) -> Tensor:
    """The tensor tiled ``repeats`` times along each axis (PyTorch's ``repeat``, NumPy's ``tile``)."""
    a = as_tensor(a)
    repeats = _sizes(repeats)
    if len(repeats) < a.ndim:
        raise ValueError(f"[repeat] give at least one count per axis ({a.ndim}), got {repeats}")
    xp = array_module(a.data)
    shape = (1,) * (len(repeats) - a.ndim) + a.shape

    def backward(g):
        # (r0*s0, r1*s1, ...) -> (r0, s0, r1, s1, ...), summed over the r axes
        split = tuple(n for pair in zip(repeats, shape) for n in pair)
        return (g.reshape(split).sum(axis=tuple(range(0, 2 * len(shape), 2))).reshape(a.shape),)

    return make_result(xp.tile(a.data, repeats), (a,), backward)


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


def gather(a, dim: int, index) -> Tensor:
    """``out[i][j] = a[index[i][j]][j]`` for dim 0, and so on (PyTorch's gather; index int64)."""
    a = as_tensor(a)
    index = index.data if isinstance(index, Tensor) else index
    xp = array_module(a.data)
    index = xp.asarray(index)
    if index.dtype.kind not in "iu" or index.ndim != a.ndim:
        raise TypeError(f"[gather] index must be an integer tensor of rank {a.ndim}, got {index.dtype} {index.shape}")
    dim = dim % a.ndim

    picked = along_axis(index, dim)

    def backward(g):
        full = xp.zeros(a.shape, dtype=g.dtype)
        xp.add.at(full, picked, g)  # an index chosen twice gets both gradients
        return (full,)

    return make_result(a.data[picked], (a,), backward)


def concatenate(tensors, axis: int = 0) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    xp = array_module(tensors[0].data)
    axis = axis % tensors[0].ndim
    bounds = np.cumsum([t.shape[axis] for t in tensors])[:-1]

    def backward(g):
        return tuple(xp.split(g, [int(b) for b in bounds], axis=axis))

    return make_result(xp.concatenate([t.data for t in tensors], axis=axis), tuple(tensors), backward)


def stack(tensors, axis: int = 0) -> Tensor:
    return concatenate([unsqueeze(t, axis) for t in tensors], axis=axis)


def split(a, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces along ``dim``: of ``split_size`` each (the last may be smaller) or of the listed sizes."""
    a = as_tensor(a)
    length = a.shape[dim]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections < 1:
            raise ValueError(f"[split] split_size must be >= 1, got {split_size_or_sections}")
        sizes = [split_size_or_sections] * (length // split_size_or_sections)
        sizes += [length % split_size_or_sections] if length % split_size_or_sections else []
    else:
        sizes = [int(n) for n in split_size_or_sections]
        if sum(sizes) != length:
            raise ValueError(f"[split] sections {sizes} must add up to the size of dim {dim}, {length}")
    lead = (slice(None),) * (dim % a.ndim)
    starts = np.cumsum([0] + sizes[:-1])
    return tuple(getitem(a, lead + (slice(int(s), int(s) + n),)) for s, n in zip(starts, sizes))


def chunk(a, chunks: int, dim: int = 0) -> tuple:
    """At most ``chunks`` pieces of equal size (the last smaller), as PyTorch."""
    if chunks < 1:
        raise ValueError(f"[chunk] chunks must be >= 1, got {chunks}")
    a = as_tensor(a)
    return split(a, max(-(-a.shape[dim] // chunks), 1), dim)

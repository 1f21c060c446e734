"""Matrix products and the dense layer."""
from __future__ import annotations

import math

import numpy as np

from ranvier import backend
from ranvier.ops import _checks

__all__ = ["matmul", "linear", "linear_backward"]


def matmul(a, b, transpose_a: bool = False, transpose_b: bool = False):
    """a @ b with NumPy's rules (1-D operands, broadcast batch axes).

    ``transpose_a`` / ``transpose_b`` swap the last two axes of an operand
    first; transposed and other strided inputs are read in place, never copied.
    a (..., m, k), b (..., k, n) -> (..., m, n), float32.
    """
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim == 2:
        try:  # the compiled module checks dtypes and shapes itself
            return backend.kernels(a).matmul_2d(a.T if transpose_a else a, b.T if transpose_b else b)
        except (TypeError, ValueError):
            pass  # not float32, or shapes that do not fit: the general path names the problem
    op = "matmul"
    a = _checks.float32(op, "a", a)
    b = _checks.float32(op, "b", b)
    _checks.same_device(op, a=a, b=b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"[{op}] operands must have at least one axis, got a {a.shape} and b {b.shape}")
    if transpose_a and a.ndim >= 2:
        a = a.swapaxes(-1, -2)
    if transpose_b and b.ndim >= 2:
        b = b.swapaxes(-1, -2)
    vector_a, vector_b = a.ndim == 1, b.ndim == 1
    if vector_a:
        a = a[None, :]
    if vector_b:
        b = b[:, None]
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"[{op}] inner dimensions differ: a is {tuple(a.shape)} (k={a.shape[-1]}), "
            f"b is {tuple(b.shape)} (k={b.shape[-2]})"
        )
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) if a.ndim > 2 or b.ndim > 2 else ()
    except ValueError:
        raise ValueError(
            f"[{op}] batch axes do not broadcast: a is {tuple(a.shape)}, b is {tuple(b.shape)}"
        ) from None
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    xp = backend.array_module(a)
    count = math.prod(batch)
    out = backend.empty(a, (count, m, n))
    if not batch:  # the common 2-D product: no broadcasting machinery
        backend.kernels(a).matmul(out, a[None], b[None])
    elif count > 0:
        a3 = xp.broadcast_to(a, batch + (m, k)).reshape(count, m, k)
        b3 = xp.broadcast_to(b, batch + (k, n)).reshape(count, k, n)
        backend.kernels(a).matmul(out, a3, b3)
    out = out.reshape(batch + (m, n))
    if vector_a:
        out = out[..., 0, :]
    if vector_b:
        out = out[..., 0]
    return out


def _dense_args(op: str, x, w, b):
    x = _checks.float32(op, "x", x)
    if x.ndim < 1:
        raise ValueError(f"[{op}] x must be (..., in) float32, got {_checks.describe(x)}")
    w = _checks.float32(op, "w", w, layout="(in, out)", ndim=2)
    if b is not None:
        b = _checks.contiguous(_checks.float32(op, "b", b, layout="(out,)", ndim=1))
    _checks.same_device(op, x=x, w=w, b=b)
    if x.shape[-1] != w.shape[0]:
        raise ValueError(
            f"[{op}] x has {x.shape[-1]} features on its last axis but w is {tuple(w.shape)} "
            f"(expects in={w.shape[0]})"
        )
    if b is not None and b.shape[0] != w.shape[1]:
        raise ValueError(f"[{op}] b must be ({w.shape[1]},) to match w {tuple(w.shape)}, got {tuple(b.shape)}")
    return x, w, b


def _rows(x):
    """x (..., in) as a 2-D (rows, in) view (a copy only when no view exists)."""
    return x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x


def linear(x, w, b=None, activation=None):
    """act(x @ w + b): x (..., in), w (in, out), b (out,) -> (..., out).

    Bias and activation (None, relu, sigmoid, tanh, gelu) are fused into the
    GEMM's store.
    """
    op = "linear"
    act = _checks.activation(op, activation)
    if type(x) is np.ndarray and type(w) is np.ndarray and x.ndim == 2 and (b is None or type(b) is np.ndarray):
        try:  # the compiled module checks dtypes and shapes itself
            return backend.kernels(x).linear_2d(x, w, b, act)
        except (TypeError, ValueError):
            pass  # not float32, or shapes that do not fit: the general path names the problem
    x, w, b = _dense_args(op, x, w, b)
    x2 = _rows(x)
    y = backend.empty(x, (x2.shape[0], w.shape[1]))
    backend.kernels(x).linear(y, x2, w, b, act)
    return y.reshape(x.shape[:-1] + (w.shape[1],))


def linear_backward(dy, x, w, activation=None, y=None, z=None):
    """Gradients of ``linear``: returns (dx, dw, db).

    dy (..., out) is dL/d(output). With an activation, pass what its
    derivative needs: the forward output ``y`` for relu, sigmoid and tanh, or
    the pre-activation ``z = x @ w + b`` for gelu.
    """
    op = "linear_backward"
    act = _checks.activation(op, activation)
    saved = None if act == "none" else z if act == "gelu" else y
    if (type(x) is np.ndarray and type(w) is np.ndarray and type(dy) is np.ndarray and x.ndim == 2
            and (act == "none" or type(saved) is np.ndarray)):
        try:  # the compiled module checks dtypes and shapes itself
            return backend.kernels(x).linear_backward_2d(dy, saved, x, w, act)
        except (TypeError, ValueError):
            pass  # not float32, or shapes that do not fit: the general path names the problem
    x, w, _ = _dense_args(op, x, w, None)
    out_features = w.shape[1]
    expected = tuple(x.shape[:-1]) + (out_features,)
    dy = _checks.float32(op, "dy", dy)
    if tuple(dy.shape) != expected:
        raise ValueError(f"[{op}] dy must be {expected} float32 to match x and w, got {_checks.describe(dy)}")
    saved = _checks.saved_for_backward(op, act, y, z, expected)
    if saved is not None:
        saved = _rows(saved)
    _checks.same_device(op, x=x, dy=dy, saved=saved)
    x2 = _rows(x)
    dx = backend.empty(x, x2.shape)
    dw = backend.empty(x, w.shape)
    db = backend.empty(x, (out_features,))
    backend.kernels(x).linear_backward(dx, dw, db, _checks.contiguous(_rows(dy)), saved, x2, w, act)
    return dx.reshape(x.shape), dw, db

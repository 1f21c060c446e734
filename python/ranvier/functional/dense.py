"""Matrix products and the dense layer on Tensors."""

from __future__ import annotations

from ranvier import ops
from ranvier.functional.arithmetic import _unbroadcast, as_tensor
from ranvier.ops.activation import SAVES_INPUT
from ranvier.tensor import Tensor, make_result, records_grad


def matmul(a, b, transpose_a: bool = False, transpose_b: bool = False) -> Tensor:
    a, b = as_tensor(a), as_tensor(b)
    y = ops.matmul(a.data, b.data, transpose_a=transpose_a, transpose_b=transpose_b)

    def backward(g):
        # y = A @ B with A = op(a), B = op(b): dA = g @ B^T, dB = A^T @ g
        if a.ndim < 2 or b.ndim < 2:
            raise NotImplementedError("[matmul] backward needs operands of rank >= 2")
        if transpose_a:  # da = (g @ B^T)^T = B @ g^T
            da = ops.matmul(b.data, g, transpose_a=transpose_b, transpose_b=True)
        else:
            da = ops.matmul(g, b.data, transpose_b=not transpose_b)
        if transpose_b:  # db = (A^T @ g)^T = g^T @ A
            db = ops.matmul(g, a.data, transpose_a=True, transpose_b=transpose_a)
        else:
            db = ops.matmul(a.data, g, transpose_a=not transpose_a)
        return _unbroadcast(da, a.shape), _unbroadcast(db, b.shape)

    return make_result(y, (a, b), backward)


def linear(x, w, b=None, activation=None) -> Tensor:
    """act(x @ w + b) with the bias and activation fused; x (..., in), w (in, out), b (out,)."""
    x, w = as_tensor(x), as_tensor(w)
    parents = (x, w) if b is None else (x, w, as_tensor(b))
    if activation in SAVES_INPUT and records_grad(parents):
        # the derivative needs the pre-activation z (gelu, silu, ...): keep it
        z = ops.linear(x.data, w.data, None if b is None else parents[2].data)
        y = getattr(ops, activation)(z)
        saved = {"z": z}
    else:
        y = ops.linear(x.data, w.data, None if b is None else parents[2].data, activation)
        saved = {"y": y}

    def backward(g):
        # A data input (the first layer's) gets no dx: its GEMM is skipped.
        dx, dw, db = ops.linear_backward(g, x.data, w.data, activation=activation, need_dx=x.requires_grad, **saved)
        return (dx, dw) if b is None else (dx, dw, db)

    return make_result(y, parents, backward)

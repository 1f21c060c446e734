"""Matrix products and the dense layer."""

from __future__ import annotations

from ranvier import backend

__all__ = ["matmul", "linear", "linear_backward"]


def matmul(a, b, transpose_a: bool = False, transpose_b: bool = False):
    """a @ b with NumPy's rules (1-D operands, broadcast batch axes).

    ``transpose_a`` / ``transpose_b`` swap the last two axes of an operand
    first; transposed and other strided inputs are read in place, never copied.
    a (..., m, k), b (..., k, n) -> (..., m, n), float32.
    """
    return backend.kernels(a).matmul(a, b, transpose_a, transpose_b)


def linear(x, w, b=None, activation=None):
    """act(x @ w + b): x (..., in), w (in, out), b (out,) -> (..., out).

    Bias and activation (None or a name of ranvier.activations.FUSED) are fused into the
    GEMM's store.
    """
    return backend.kernels(x).linear(x, w, b, activation)


def linear_backward(dy, x, w, activation=None, y=None, z=None, need_dx=True):
    """Gradients of ``linear``: returns (dx, dw, db).

    dy (..., out) is dL/d(output). With an activation, pass what its
    derivative needs: the pre-activation ``z = x @ w + b`` for the activations of
    ``ops.activation.SAVES_INPUT`` (gelu, silu, softplus, softsign), else the forward output ``y``.
    ``need_dx=False`` skips the input gradient's GEMM (x is data): dx is None.
    """
    return backend.kernels(x).linear_backward(dy, x, w, activation, y, z, need_dx)

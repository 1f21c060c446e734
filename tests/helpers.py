"""Tolerances and numerical checks shared by the tests."""

from __future__ import annotations

import contextlib

import numpy as np

EPS32 = float(np.finfo(np.float32).eps)


def assert_close(actual, expected, atol: float, rtol: float, what: str = ""):
    """|actual - expected| <= atol + rtol * |expected|, elementwise, with a useful message."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if actual.size == 0:
        return
    assert np.all(np.isfinite(actual)), f"{what}: non-finite values"
    err = np.abs(actual - expected)
    bound = atol + rtol * np.abs(expected)
    worst = np.unravel_index(np.argmax(err - bound), err.shape)
    assert np.all(err <= bound), (
        f"{what}: max error {err.max():.3g} at {worst}: got {actual[worst]!r}, want {expected[worst]!r} "
        f"(bound {bound[worst]:.3g})"
    )


def assert_matmul_close(actual, a, b, expected, what: str = ""):
    """Error model of a float32 dot product of length k: |err| <= c k eps (|a| @ |b|)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    k = a.shape[-1]
    bound = 2 * (k + 2) * EPS32 * (np.abs(a) @ np.abs(b)) + 1e-30
    actual = np.asarray(actual, np.float64)
    err = np.abs(actual - expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert np.all(err <= bound), f"{what}: max error {err.max():.3g}, max allowed {bound.max():.3g}"


def numerical_grad(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f at x (float64), one coordinate at a time."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = f(x)
        flat[i] = old - h
        down = f(x)
        flat[i] = old
        gflat[i] = (up - down) / (2 * h)
    return g


def f32(rng, *shape, scale: float = 1.0) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(np.float32)


@contextlib.contextmanager
def num_threads(n: int):
    """Runs the CPU kernels on n threads inside the block, then restores the count."""
    import ranvier

    before = ranvier.get_num_threads()
    ranvier.set_num_threads(n)
    try:
        yield
    finally:
        ranvier.set_num_threads(before)


def check_autograd(fn, ref_fn, inputs, atol=1e-4, rtol=1e-3):
    """Autograd gradients of sum(fn(*tensors) * w) against finite differences of ref_fn in float64.

    ``fn`` takes ranvier Tensors (float32); ``ref_fn`` the same inputs as float64
    NumPy arrays. A fixed random weighting w makes every output element count.
    """
    import ranvier

    tensors = [ranvier.tensor(x, requires_grad=True) for x in inputs]
    out = fn(*tensors)
    weights = np.random.default_rng(123).standard_normal(out.shape)
    (out * weights.astype(np.float32)).sum().backward()
    want_out = ref_fn(*[np.asarray(x, np.float64) for x in inputs])
    assert_close(out.numpy(), want_out, atol=atol, rtol=rtol, what="value")
    for i, (x, t) in enumerate(zip(inputs, tensors)):

        def f(v, i=i):
            args = [np.asarray(a, np.float64) for a in inputs]
            args[i] = v
            return float(np.sum(ref_fn(*args) * weights))

        want = numerical_grad(f, x)
        assert t.grad is not None, f"input {i} got no gradient"
        assert_close(t.grad.numpy(), want, atol=atol, rtol=rtol, what=f"grad of input {i}")


def all_op_names() -> set:
    """Every op of ranvier.ops: the union of its family modules' __all__."""
    import importlib
    import pkgutil

    import ranvier.ops

    names = set()
    for module in pkgutil.iter_modules(ranvier.ops.__path__):
        names.update(importlib.import_module(f"ranvier.ops.{module.name}").__all__)
    return names

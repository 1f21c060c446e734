"""layer_norm and layer_norm_backward: kernels against the reference, the
reference against finite differences."""

import numpy as np
import pytest
from helpers import assert_close, f32, num_threads, numerical_grad

from ranvier import ops, reference

# (..., D): batch 1, odd D (1, 7, 33, 1000; 29 ends in a full and a partial
# vector for every ISA), 3-D inputs, enough rows for several threads and row blocks
SHAPES = [(1, 1), (1, 7), (5, 33), (3, 29), (3, 1000), (2, 3, 7), (4, 5, 33), (2000, 65)]


def _inputs(rng, shape, mean=0.0):
    d = shape[-1]
    x = (rng.standard_normal(shape) + mean).astype(np.float32)
    return x, f32(rng, d), f32(rng, d), f32(rng, *shape)


def _f64(*arrays):
    return [a.astype(np.float64) for a in arrays]


def test_reference_backward_is_the_gradient(rng):
    x, gamma, beta, dy = (
        rng.standard_normal((3, 5)),
        rng.standard_normal(5),
        rng.standard_normal(5),
        rng.standard_normal((3, 5)),
    )

    def loss(x_, g_, b_):
        return np.sum(reference.layer_norm(x_, g_, b_, eps=1e-3) * dy)

    _, mean, rstd = reference.layer_norm(x, gamma, beta, eps=1e-3, return_stats=True)
    dx, dgamma, dbeta = reference.layer_norm_backward(dy, x, gamma, mean, rstd)
    assert_close(dx, numerical_grad(lambda v: loss(v, gamma, beta), x), atol=1e-7, rtol=1e-6, what="dx")
    assert_close(dgamma, numerical_grad(lambda v: loss(x, v, beta), gamma), atol=1e-7, rtol=1e-6, what="dgamma")
    assert_close(dbeta, numerical_grad(lambda v: loss(x, gamma, v), beta), atol=1e-7, rtol=1e-6, what="dbeta")
    assert_close(mean, x.mean(-1), atol=1e-12, rtol=1e-12)
    assert_close(rstd, 1 / np.sqrt(x.var(-1) + 1e-3), atol=1e-12, rtol=1e-12)


def _check_forward_and_backward(backend, x, gamma, beta, dy, y_atol=1e-5):
    dev = backend.asarray
    y, mean, rstd = (backend.numpy(a) for a in ops.layer_norm(dev(x), dev(gamma), dev(beta), return_stats=True))
    want_y, want_mean, want_rstd = reference.layer_norm(*_f64(x, gamma, beta), return_stats=True)
    assert y.shape == x.shape and mean.shape == x.shape[:-1] and rstd.shape == x.shape[:-1]
    assert_close(y, want_y, atol=y_atol, rtol=1e-5, what="y")
    assert_close(mean, want_mean, atol=1e-6, rtol=2 * np.finfo(np.float32).eps, what="mean")
    assert_close(rstd, want_rstd, atol=0, rtol=1e-5, what="rstd")
    assert_close(
        backend.numpy(ops.layer_norm(dev(x), dev(gamma), dev(beta))), y, atol=0, rtol=0, what="y without stats"
    )

    # The backward takes the stats the forward returned, in float32, so the
    # reference gets exactly those.
    dx, dgamma, dbeta = (
        backend.numpy(a) for a in ops.layer_norm_backward(dev(dy), dev(x), dev(gamma), dev(mean), dev(rstd))
    )
    want = reference.layer_norm_backward(*_f64(dy, x, gamma, mean, rstd))
    d, rows = x.shape[-1], x.size // x.shape[-1]
    assert_close(dx, want[0], atol=1e-5 * np.sqrt(d), rtol=1e-4, what="dx")
    assert_close(dgamma, want[1], atol=1e-5 * np.sqrt(rows), rtol=1e-4, what="dgamma")
    assert_close(dbeta, want[2], atol=1e-5 * np.sqrt(rows), rtol=1e-4, what="dbeta")


@pytest.mark.parametrize("shape", SHAPES)
def test_matches_reference(backend, isa, shape, rng):
    _check_forward_and_backward(backend, *_inputs(rng, shape))


@pytest.mark.parametrize("d", [7, 33, 1000])
def test_rows_with_a_large_mean_keep_their_variance(backend, isa, d, rng):
    # mean 1e4, std 1: E[x^2] - E[x]^2 in float32 would lose every digit
    x, gamma, beta, dy = _inputs(rng, (8, d), mean=1e4)
    _check_forward_and_backward(backend, x, gamma, beta, dy, y_atol=2e-5)


def test_constant_rows_give_beta(backend, isa, rng):
    x = np.full((3, 37), 5e3, np.float32)
    gamma, beta = f32(rng, 37), f32(rng, 37)
    y, mean, rstd = (
        backend.numpy(a)
        for a in ops.layer_norm(
            backend.asarray(x), backend.asarray(gamma), backend.asarray(beta), eps=1e-5, return_stats=True
        )
    )
    np.testing.assert_array_equal(y, np.broadcast_to(beta, x.shape))
    np.testing.assert_array_equal(mean, 5e3)
    assert_close(rstd, np.full(3, 1 / np.sqrt(1e-5)), atol=0, rtol=1e-6)


def test_gradients_do_not_depend_on_the_thread_count(rng):
    x, gamma, beta, dy = _inputs(rng, (3001, 67))
    results = []
    for n in (1, 2):
        with num_threads(n):
            _, mean, rstd = ops.layer_norm(x, gamma, beta, return_stats=True)
            results.append(ops.layer_norm_backward(dy, x, gamma, mean, rstd))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_strided_input_and_empty_batch(backend, rng):
    x, gamma, beta, _ = _inputs(rng, (6, 20))
    view = x[::2, ::2]
    y = backend.numpy(ops.layer_norm(backend.asarray(view), backend.asarray(gamma[:10]), backend.asarray(beta[:10])))
    assert_close(y, reference.layer_norm(*_f64(view, gamma[:10], beta[:10])), atol=1e-5, rtol=1e-5)

    empty = backend.asarray(np.zeros((0, 3, 20), np.float32))
    y, mean, rstd = ops.layer_norm(empty, backend.asarray(gamma), backend.asarray(beta), return_stats=True)
    assert y.shape == (0, 3, 20) and mean.shape == (0, 3)
    dx, dgamma, dbeta = ops.layer_norm_backward(empty, empty, backend.asarray(gamma), mean, rstd)
    assert dx.shape == (0, 3, 20)
    assert np.all(backend.numpy(dgamma) == 0) and np.all(backend.numpy(dbeta) == 0)


def test_bad_input_is_named():
    x, g = np.zeros((4, 3), np.float32), np.ones(3, np.float32)
    with pytest.raises(TypeError, match=r"\[layer_norm\] x must be a float32 array, got \(4, 3\) float64"):
        ops.layer_norm(x.astype(np.float64), g, g)
    with pytest.raises(ValueError, match=r"\[layer_norm\] gamma must be \(3,\) to match x \(4, 3\), got \(4,\)"):
        ops.layer_norm(x, np.ones(4, np.float32), g)
    with pytest.raises(ValueError, match=r"\[layer_norm\] beta must be \(D,\) float32, got \(1, 3\) float32"):
        ops.layer_norm(x, g, g[None])
    with pytest.raises(ValueError, match=r"\[layer_norm\] x must be \(\.\.\., D\) float32 with D >= 1, got \(4, 0\)"):
        ops.layer_norm(np.zeros((4, 0), np.float32), g[:0], g[:0])
    with pytest.raises(ValueError, match=r"\[layer_norm\] x must be \(\.\.\., D\)"):
        ops.layer_norm(np.float32(1.0), g[:1], g[:1])
    with pytest.raises(ValueError, match=r"\[layer_norm\] eps must be a finite number >= 0, got -1"):
        ops.layer_norm(x, g, g, eps=-1)
    with pytest.raises(TypeError, match=r"\[layer_norm\] eps must be a real number"):
        ops.layer_norm(x, g, g, eps="small")
    stats = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"\[layer_norm_backward\] dy must be \(4, 3\) float32 to match x"):
        ops.layer_norm_backward(np.zeros((4, 2), np.float32), x, g, stats, stats)
    with pytest.raises(ValueError, match=r"\[layer_norm_backward\] rstd must be \(4,\) float32"):
        ops.layer_norm_backward(x, x, g, stats, np.zeros((4, 1), np.float32))
    with pytest.raises(TypeError, match=r"\[layer_norm_backward\] mean must be a float32 array"):
        ops.layer_norm_backward(x, x, g, stats.astype(np.float64), stats)


def test_raw_kernels_refuse_bad_arrays():
    """The compiled module is where the checks live: called directly, it names the op and argument too."""
    from ranvier import _cpu

    x, g = np.zeros((4, 3), np.float32), np.ones(3, np.float32)
    with pytest.raises(ValueError, match=r"\[layer_norm\] gamma must be \(3,\) to match x \(4, 3\), got \(5,\)"):
        _cpu.layer_norm(x, np.ones(5, np.float32), g, 1e-5)
    with pytest.raises(
        ValueError, match=r"\[layer_norm\] x must be \(\.\.\., D\) float32 with D >= 1, got \(4, 0\) float32"
    ):
        _cpu.layer_norm(np.zeros((4, 0), np.float32), g[:0], g[:0], 1e-5)
    with pytest.raises(ValueError, match=r"\[layer_norm\] eps must be a finite number >= 0, got nan"):
        _cpu.layer_norm(x, g, g, float("nan"))
    with pytest.raises(
        ValueError,
        match=r"\[layer_norm_backward\] rstd must be \(4,\) float32 \(x's shape without its last axis\), "
        r"got \(2,\) float32",
    ):
        _cpu.layer_norm_backward(x, x, g, np.zeros(4, np.float32), np.zeros(2, np.float32))
    with pytest.raises(TypeError, match=r"\[layer_norm_backward\] dy must be a float32 array, got \(4, 3\) float64"):
        _cpu.layer_norm_backward(x.astype(np.float64), x, g, np.zeros(4, np.float32), np.zeros(4, np.float32))


def test_strided_arrays_are_read_as_their_values(rng):
    """Strided inputs of either direction are copied once, densely, never misread."""
    x, gamma, beta, dy = _inputs(rng, (5, 8))
    wide = lambda a: np.repeat(a, 2, axis=-1)[..., ::2]
    y, mean, rstd = ops.layer_norm(x, gamma, beta, return_stats=True)
    got = ops.layer_norm(wide(x), wide(gamma), wide(beta), return_stats=True)
    for g, w in zip(got, (y, mean, rstd)):
        np.testing.assert_array_equal(g, w)
    got = ops.layer_norm_backward(wide(dy), x.T.copy().T, wide(gamma), wide(mean), wide(rstd))
    for g, w in zip(got, ops.layer_norm_backward(dy, x, gamma, mean, rstd)):
        np.testing.assert_array_equal(g, w)

"""max_pool1d, avg_pool1d (the 2-D kernels with H = 1) and global_max_pool
against the reference on every ISA; NaN and ties as np.max/np.argmax; bad
inputs named by their op."""

import numpy as np
import pytest
from helpers import assert_close, f32, numerical_grad

import ranvier
from ranvier import ops, reference

# (x shape, pool_size, stride, padding)
CASES = [
    ((1, 1, 1), 1, None, "valid"),
    ((2, 9, 5), 2, None, "valid"),
    ((2, 9, 5), 2, None, "same"),
    ((3, 11, 17), 3, 2, "same"),
    ((2, 10, 33), 3, 1, "valid"),
    ((1, 4, 3), 5, 2, "same"),
    ((2, 7, 16), 2, 3, "valid"),
    ((0, 6, 4), 2, None, "same"),
    ((8, 500, 64), 3, 2, "same"),
]
IDS = [f"{s}-{p}-{st}-{pad}" for s, p, st, pad in CASES]
POOLS = ["max_pool1d", "avg_pool1d"]


@pytest.mark.parametrize("op", POOLS)
@pytest.mark.parametrize("shape,pool,stride,padding", CASES, ids=IDS)
def test_matches_reference_on_every_isa(backend, isa, op, shape, pool, stride, padding, rng):
    x = f32(rng, *shape)
    dev = backend.asarray
    y = backend.numpy(getattr(ops, op)(dev(x), pool, stride, padding))
    assert_close(y, getattr(reference, op)(x.astype(np.float64), pool, stride, padding), 1e-6, 1e-6, op)
    dy = f32(rng, *y.shape)
    dx = backend.numpy(getattr(ops, f"{op}_backward")(dev(dy), dev(x), pool, stride, padding))
    want = getattr(reference, f"{op}_backward")(dy.astype(np.float64), x.astype(np.float64), pool, stride, padding)
    assert_close(dx, want, 1e-6, 1e-5, f"{op}_backward")


def test_output_lengths_follow_keras(rng):
    x = f32(rng, 2, 10, 3)
    assert ops.max_pool1d(x).shape == (2, 5, 3)
    assert ops.avg_pool1d(x, 3).shape == (2, 3, 3)
    assert ops.max_pool1d(x, 3, padding="same").shape == (2, 4, 3)
    assert ops.avg_pool1d(x, 4, 1, "same").shape == (2, 10, 3)


@pytest.mark.parametrize("op", POOLS)
def test_reference_backward_is_the_derivative(op, rng):
    x = rng.standard_normal((2, 9, 3))
    f = getattr(reference, op)
    dy = rng.standard_normal(f(x, 3, 2, "same").shape)
    want = numerical_grad(lambda v: np.sum(f(v, 3, 2, "same") * dy), x)
    assert_close(getattr(reference, f"{op}_backward")(dy, x, 3, 2, "same"), want, 1e-6, 1e-5)


@pytest.mark.parametrize("op", POOLS)
def test_bad_input_names_the_1d_op(op):
    x = np.zeros((1, 4, 2), np.float32)
    with pytest.raises(ValueError, match=rf"\[{op}\] x must be \(N, L, C\) float32, got \(1, 1, 4, 2\) float32"):
        getattr(ops, op)(x[None])
    with pytest.raises(TypeError, match=rf"\[{op}\] x must be \(N, L, C\) float32, got \(1, 4, 2\) float64"):
        getattr(ops, op)(x.astype(np.float64))
    with pytest.raises(ValueError, match=rf"\[{op}\] pool_size 5 is longer than the sequence \(length 4\)"):
        getattr(ops, op)(x, 5)
    with pytest.raises(TypeError, match=rf"\[{op}\] pool_size must be an integer"):
        getattr(ops, op)(x, (2, 2))
    with pytest.raises(
        ValueError, match=rf"\[{op}\] stride must be an integer >= 1|\[{op}\] stride must be an integer in"
    ):
        getattr(ops, op)(x, 2, 0)
    with pytest.raises(ValueError, match=rf"\[{op}_backward\] dy must be \(1, 2, 2\) float32 to match x"):
        getattr(ops, f"{op}_backward")(np.zeros((1, 3, 2), np.float32), x)


# ---- global max pooling ----------------------------------------------------

GLOBAL_SHAPES = [(1, 1, 1), (2, 7, 5), (3, 9, 300), (0, 4, 3), (2, 5, 4, 19), (1, 1, 1, 1), (4, 33, 31, 70)]


@pytest.mark.parametrize("shape", GLOBAL_SHAPES, ids=str)
def test_global_max_pool_matches_reference_on_every_isa(backend, isa, shape, rng):
    x = f32(rng, *shape)
    dev = backend.asarray
    y = backend.numpy(ops.global_max_pool(dev(x)))
    np.testing.assert_array_equal(y, reference.global_max_pool(x))
    dy = f32(rng, *y.shape)
    dx = backend.numpy(ops.global_max_pool_backward(dev(dy), dev(x)))
    np.testing.assert_array_equal(dx, reference.global_max_pool_backward(dy, x))


@pytest.mark.parametrize("shape", [(2, 7, 3), (2, 3, 4, 5)], ids=str)
def test_global_max_pool_reference_backward_is_the_derivative(shape, rng):
    x = rng.standard_normal(shape)  # distinct values: each maximum is unique
    dy = rng.standard_normal((shape[0], shape[-1]))
    want = numerical_grad(lambda v: np.sum(reference.global_max_pool(v) * dy), x)
    assert_close(reference.global_max_pool_backward(dy, x), want, 1e-6, 1e-5)


def test_global_max_pool_ties_nan_and_inf_follow_numpy(backend, isa, rng):
    """The gradient goes to the first maximum (np.argmax); a NaN is the maximum
    and takes the gradient (the first NaN); -inf everywhere is a maximum too."""
    x = rng.integers(0, 3, size=(3, 6, 5, 37)).astype(np.float32)  # ties everywhere
    x[0, 2, 3, 4] = x[0, 4, 1, 4] = np.nan
    x[1, 5, 4, 36] = np.nan
    x[2, :, :, 7] = -np.inf
    x[2, 3, 3, 8] = np.inf
    dy = f32(rng, 3, 37)
    y = backend.numpy(ops.global_max_pool(backend.asarray(x)))
    want = reference.global_max_pool(x)
    np.testing.assert_array_equal(y, want)  # NaN positions included
    assert np.isnan(y[0, 4]) and np.isnan(y[1, 36]) and y[2, 7] == -np.inf and y[2, 8] == np.inf
    dx = backend.numpy(ops.global_max_pool_backward(backend.asarray(dy), backend.asarray(x)))
    np.testing.assert_array_equal(dx, reference.global_max_pool_backward(dy, x))
    assert dx[0, 2, 3, 4] == dy[0, 4] and dx[0, 4, 1, 4] == 0
    dy[1, 36] = np.nan  # a NaN gradient reaches the element that takes it, and only it
    dx = backend.numpy(ops.global_max_pool_backward(backend.asarray(dy), backend.asarray(x)))
    assert np.isnan(dx[1, 5, 4, 36]) and np.isnan(dx[..., 36]).sum() == 1


def test_global_max_pool_is_the_same_for_any_thread_count(rng):
    x = rng.integers(0, 4, size=(3, 40, 700)).astype(np.float32)
    dy = f32(rng, 3, 700)
    before = ranvier.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 3):
            ranvier.set_num_threads(threads)
            results.append((ops.global_max_pool(x), ops.global_max_pool_backward(dy, x)))
    finally:
        ranvier.set_num_threads(before)
    for y, dx in results[1:]:
        assert np.array_equal(y, results[0][0]) and np.array_equal(dx, results[0][1])


def test_global_max_pool_reads_strided_input(rng):
    x = f32(rng, 2, 8, 6, 10)[:, ::2, :, 1:7]
    np.testing.assert_array_equal(ops.global_max_pool(x), reference.global_max_pool(x))


def test_global_max_pool_bad_input_is_named():
    with pytest.raises(
        ValueError, match=r"\[global_max_pool\] x must be \(N, L, C\) or \(N, H, W, C\) float32, got \(2, 3\)"
    ):
        ops.global_max_pool(np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match=r"\[global_max_pool\] x must be .* float32, got \(2, 3, 4\) float64"):
        ops.global_max_pool(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"\[global_max_pool\] x must have at least one position"):
        ops.global_max_pool(np.zeros((2, 0, 4), np.float32))
    with pytest.raises(ValueError, match=r"\[global_max_pool_backward\] dy must be \(2, 4\) float32 to match x"):
        ops.global_max_pool_backward(np.zeros((2, 5), np.float32), np.zeros((2, 3, 4), np.float32))

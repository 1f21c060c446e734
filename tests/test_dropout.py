"""dropout and dropout_backward: the counter-based mask against the reference,
its statistics, and its independence from threads and ISAs."""

import numpy as np
import pytest
from helpers import assert_close, f32, num_threads

from ranvier import ops, reference

SHAPES = [(1,), (7,), (33,), (1000,), (100003,), (3, 5, 7)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_matches_reference(backend, isa, shape, rate, rng):
    x, dy = f32(rng, *shape), f32(rng, *shape)
    y, mask = (backend.numpy(a) for a in ops.dropout(backend.asarray(x), rate, seed=1234))
    want_y, want_mask = reference.dropout(x.astype(np.float64), rate, seed=1234)
    assert mask.dtype == np.uint8 and mask.shape == shape
    np.testing.assert_array_equal(mask, want_mask)
    assert_close(y, want_y, atol=0, rtol=2e-7, what="y")
    dx = backend.numpy(ops.dropout_backward(backend.asarray(dy), backend.asarray(mask), rate))
    assert_close(dx, reference.dropout_backward(dy.astype(np.float64), mask, rate), atol=0, rtol=2e-7, what="dx")


def test_same_seed_same_mask_other_seed_other_mask(backend, rng):
    x = backend.asarray(f32(rng, 10000))
    _, a = ops.dropout(x, 0.5, seed=7)
    _, b = ops.dropout(x, 0.5, seed=7)
    _, c = ops.dropout(x, 0.5, seed=8)
    a, b, c = (backend.numpy(m) for m in (a, b, c))
    np.testing.assert_array_equal(a, b)
    # independent masks agree on about half of the elements
    assert 0.45 < np.mean(a == c) < 0.55


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_fraction_kept_and_pairs(backend, rate):
    n = 100_000
    _, mask = ops.dropout(backend.asarray(np.ones(n, np.float32)), rate, seed=2024)
    mask = backend.numpy(mask).astype(np.float64)
    keep = 1 - rate
    # binomial: 5 standard deviations, a false alarm about once in 2 million runs
    assert abs(mask.mean() - keep) < 5 * np.sqrt(keep * rate / n)
    # the two elements that share one hash are independent too
    both = np.mean(mask[0::2] * mask[1::2])
    assert abs(both - keep**2) < 5 * np.sqrt(keep**2 * (1 - keep**2) / (n // 2))


def test_mask_does_not_depend_on_threads_or_isa(isa, rng):
    x = f32(rng, 3, 100003)
    results = []
    for n in (1, 2):
        with num_threads(n):
            results.append(ops.dropout(x, 0.3, seed=99))
    np.testing.assert_array_equal(results[0][1], results[1][1])
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], reference.dropout(x, 0.3, seed=99)[1])


def test_large_seeds_and_strided_input(backend, rng):
    x = f32(rng, 40, 30)[::3, ::2]
    for seed in (0, 2**63, 2**64 - 1):
        y, mask = (backend.numpy(a) for a in ops.dropout(backend.asarray(x), 0.25, seed))
        want_y, want_mask = reference.dropout(x, 0.25, seed)
        np.testing.assert_array_equal(mask, want_mask)
        assert_close(y, want_y, atol=0, rtol=2e-7)


def test_identity_when_not_training_or_rate_zero(backend, rng):
    x = backend.asarray(f32(rng, 5, 3))
    for kwargs in ({"rate": 0.5, "training": False}, {"rate": 0.0}):
        y, mask = ops.dropout(x, seed=1, **kwargs)
        assert y is x and mask is None
    dy = backend.asarray(f32(rng, 5, 3))
    assert ops.dropout_backward(dy, None, 0.5) is dy
    y, mask = reference.dropout(backend.numpy(x), 0.0, seed=1)
    assert mask is None


def test_nan_and_inf_propagate_like_a_product(backend):
    x = np.array([np.nan, np.inf, -np.inf, 1.0] * 8, np.float32)
    y, mask = (backend.numpy(a) for a in ops.dropout(backend.asarray(x), 0.5, seed=3))
    with np.errstate(invalid="ignore"):  # inf * 0 where dropped
        want, _ = reference.dropout(x, 0.5, seed=3)
    np.testing.assert_array_equal(y, want)


def test_empty(backend):
    y, mask = ops.dropout(backend.asarray(np.zeros((0, 4), np.float32)), 0.5, seed=1)
    assert y.shape == (0, 4) and mask.shape == (0, 4)
    assert ops.dropout_backward(y, mask, 0.5).shape == (0, 4)


def test_bad_input_is_named():
    x = np.zeros(4, np.float32)
    for rate in (1.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match=r"\[dropout\] rate must be in \[0, 1\), got"):
            ops.dropout(x, rate, seed=0)
    with pytest.raises(TypeError, match=r"\[dropout\] rate must be a real number, got str"):
        ops.dropout(x, "0.5", seed=0)
    with pytest.raises(ValueError, match=r"\[dropout\] seed must be an integer in \[0, 18446744073709551616\), got -1"):
        ops.dropout(x, 0.5, seed=-1)
    with pytest.raises(TypeError, match=r"\[dropout\] seed must be an integer, got float"):
        ops.dropout(x, 0.5, seed=1.0)
    with pytest.raises(TypeError, match=r"\[dropout\] x must be a float32 array, got \(4,\) float64"):
        ops.dropout(x.astype(np.float64), 0.5, seed=0)
    mask = np.ones(4, np.uint8)
    with pytest.raises(
        TypeError, match=r"\[dropout_backward\] mask must be the uint8 mask that dropout returned, got \(4,\) bool"
    ):
        ops.dropout_backward(x, mask.astype(bool), 0.5)
    with pytest.raises(
        ValueError, match=r"\[dropout_backward\] mask and dy must have the same shape, got \(4,\) and \(2, 2\)"
    ):
        ops.dropout_backward(x.reshape(2, 2), mask, 0.5)
    with pytest.raises(ValueError, match=r"\[dropout_backward\] rate must be in \[0, 1\)"):
        ops.dropout_backward(x, mask, 1.5)


def test_arguments_are_checked_when_dropout_is_the_identity():
    x = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"\[dropout\] rate must be in \[0, 1\), got 1.5"):
        ops.dropout(x, 1.5, seed=0, training=False)
    with pytest.raises(TypeError, match=r"\[dropout\] x must be a float32 array, got \(4,\) float64"):
        ops.dropout(x.astype(np.float64), 0.0, seed=0)
    with pytest.raises(TypeError, match=r"\[dropout_backward\] dy must be a float32 array, got \(4,\) float64"):
        ops.dropout_backward(x.astype(np.float64), None, 0.5)


def test_raw_kernels_refuse_bad_arrays():
    """The compiled module is where the checks live: called directly, it names the op and argument too."""
    from ranvier import _cpu

    x, mask = np.zeros(4, np.float32), np.ones(4, np.uint8)
    with pytest.raises(ValueError, match=r"\[dropout\] rate must be in \[0, 1\), got 1.0"):
        _cpu.dropout(x, 1.0, 1)
    with pytest.raises(ValueError, match=r"\[dropout\] seed must be an integer in \[0, 18446744073709551616\), got -1"):
        _cpu.dropout(x, 0.5, -1)
    with pytest.raises(TypeError, match=r"\[dropout\] x must be a float32 array, got \(4,\) float64"):
        _cpu.dropout(x.astype(np.float64), 0.5, 1)
    with pytest.raises(
        TypeError, match=r"\[dropout_backward\] mask must be the uint8 mask that dropout returned, got \(4,\) int8"
    ):
        _cpu.dropout_backward(x, mask.astype(np.int8), 0.5)
    with pytest.raises(
        ValueError, match=r"\[dropout_backward\] mask and dy must have the same shape, got \(4,\) and \(8,\)"
    ):
        _cpu.dropout_backward(np.zeros(8, np.float32), mask, 0.5)


def test_strided_dy_and_mask_are_read_as_their_values():
    dy = np.arange(16, dtype=np.float32)[::2]
    mask = np.array([1, 0, 1, 1, 0, 0, 1, 1] * 2, np.uint8)[::2]
    np.testing.assert_array_equal(ops.dropout_backward(dy, mask, 0.5), dy * mask * np.float32(2))

"""softmax, log_softmax and softmax_cross_entropy: kernels against the
reference, reference against finite differences, stability at ±1e4."""

import numpy as np
import pytest
from helpers import EPS32, assert_close, f32, numerical_grad

from ranvier import _cpu, ops, reference

LENGTHS = [1, 7, 10, 1000, 1001]
FUNCS = ["softmax", "log_softmax"]
REDUCTIONS = ["mean", "sum", "none"]


def _log_softmax_atol(x):
    """x - lse rounds at the size of the row's largest |x|."""
    return 8 * EPS32 * max(1.0, float(np.abs(x).max(initial=0)))


@pytest.mark.parametrize("fn", FUNCS)
@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("rows", [1, 5])
def test_forward_and_backward_match_reference(backend, isa, fn, n, rows, rng):
    x, dy = f32(rng, rows, n, scale=3.0), f32(rng, rows, n)
    dev = backend.asarray
    y = backend.numpy(getattr(ops, fn)(dev(x)))
    x64 = x.astype(np.float64)
    want = getattr(reference, fn)(x64)
    assert_close(y, want, atol=_log_softmax_atol(x) if fn == "log_softmax" else 1e-7, rtol=1e-5, what=fn)
    dx = backend.numpy(getattr(ops, f"{fn}_backward")(dev(dy), dev(y)))
    want_dx = getattr(reference, f"{fn}_backward")(dy.astype(np.float64), y.astype(np.float64))
    assert_close(dx, want_dx, atol=1e-6 * np.sqrt(n), rtol=1e-5, what=f"{fn}_backward")


@pytest.mark.parametrize("fn", FUNCS)
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_any_axis_of_a_3d_array(backend, fn, axis, rng):
    x, dy = f32(rng, 4, 5, 6), f32(rng, 4, 5, 6)
    dev = backend.asarray
    y = backend.numpy(getattr(ops, fn)(dev(x), axis=axis))
    assert y.shape == x.shape
    assert_close(y, getattr(reference, fn)(x.astype(np.float64), axis=axis), atol=1e-6, rtol=1e-5, what=fn)
    dx = backend.numpy(getattr(ops, f"{fn}_backward")(dev(dy), dev(y), axis=axis))
    want = getattr(reference, f"{fn}_backward")(dy.astype(np.float64), y.astype(np.float64), axis=axis)
    assert_close(dx, want, atol=1e-6, rtol=1e-5, what=f"{fn}_backward")


@pytest.mark.parametrize("fn", FUNCS)
def test_reference_backward_is_the_derivative(fn, rng):
    x, dy = rng.standard_normal((3, 7)), rng.standard_normal((3, 7))
    f = getattr(reference, fn)
    want = numerical_grad(lambda v: np.sum(f(v) * dy), x)
    assert_close(getattr(reference, f"{fn}_backward")(dy, f(x)), want, atol=1e-7, rtol=1e-6, what=f"d{fn}")


def test_large_logits_stay_finite_and_correct(backend, isa, rng):
    x = np.array([[1e4, -1e4, 0, 9999.5, 1e4], [-1e4, -1e4, -1e4, -9990, -1e4]], np.float32)
    x = np.concatenate([x, f32(rng, 3, 5, scale=1e4)])
    x64 = x.astype(np.float64)
    for fn in FUNCS:
        y = backend.numpy(getattr(ops, fn)(backend.asarray(x)))
        assert np.all(np.isfinite(y)), fn
        assert_close(
            y,
            getattr(reference, fn)(x64),
            atol=_log_softmax_atol(x) if fn == "log_softmax" else 1e-7,
            rtol=1e-5,
            what=fn,
        )
    labels = np.array([0, 3, 1, 2, 4])
    for lab in (labels, np.eye(5, dtype=np.float32)[::-1]):
        for reduction in REDUCTIONS:
            loss = backend.numpy(ops.softmax_cross_entropy(backend.asarray(x), backend.asarray(lab), reduction))
            want = reference.softmax_cross_entropy(x64, lab, reduction)
            assert_close(loss, want, atol=1e-3, rtol=1e-5, what=f"cross-entropy {reduction}")
        grad = backend.numpy(ops.softmax_cross_entropy_backward(backend.asarray(x), backend.asarray(lab)))
        assert_close(grad, reference.softmax_cross_entropy_backward(x64, lab), atol=1e-7, rtol=1e-5)


def test_nan_makes_its_row_nan(backend, isa):
    x = np.array([[0.0, np.nan, 1.0], [0.0, 1.0, 2.0]], np.float32)
    for fn in FUNCS:
        y = backend.numpy(getattr(ops, fn)(backend.asarray(x)))
        assert np.all(np.isnan(y[0])) and np.all(np.isfinite(y[1])), fn
    loss = backend.numpy(ops.softmax_cross_entropy(backend.asarray(x), backend.asarray(np.array([0, 1])), "none"))
    assert np.isnan(loss[0]) and np.isfinite(loss[1])


def test_empty_arrays(backend):
    for shape in [(0, 5), (3, 0), (2, 0, 4)]:
        x = backend.asarray(np.zeros(shape, np.float32))
        for fn in FUNCS:
            assert backend.numpy(getattr(ops, fn)(x)).shape == shape
            assert backend.numpy(getattr(ops, f"{fn}_backward")(x, x)).shape == shape
    logits = backend.asarray(np.zeros((0, 4), np.float32))
    labels = backend.asarray(np.zeros((0,), np.int64))
    assert backend.numpy(ops.softmax_cross_entropy(logits, labels, "none")).shape == (0,)
    assert float(backend.numpy(ops.softmax_cross_entropy(logits, labels, "sum"))) == 0
    assert np.isnan(float(backend.numpy(ops.softmax_cross_entropy(logits, labels, "mean"))))
    assert backend.numpy(ops.softmax_cross_entropy_backward(logits, labels)).shape == (0, 4)


# ---- softmax_cross_entropy --------------------------------------------------


def _labels(kind, rng, n, c):
    if kind == "index":
        return rng.integers(0, c, size=n)
    p = rng.random((n, c)).astype(np.float32)
    return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("kind", ["index", "prob"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("n,c", [(1, 1), (1, 10), (7, 7), (5, 1000), (3, 1001), (300, 10)])
def test_cross_entropy_matches_reference(backend, isa, kind, reduction, n, c, rng):
    logits, labels = f32(rng, n, c, scale=3.0), _labels(kind, rng, n, c)
    dev = backend.asarray
    loss = backend.numpy(ops.softmax_cross_entropy(dev(logits), dev(labels), reduction))
    logits64 = logits.astype(np.float64)
    want = reference.softmax_cross_entropy(logits64, labels, reduction)
    assert loss.shape == np.shape(want) and loss.dtype == np.float32
    assert_close(loss, want, atol=1e-6, rtol=1e-5, what="loss")
    dloss = f32(rng, n) if reduction == "none" else 0.7
    grad = backend.numpy(
        ops.softmax_cross_entropy_backward(
            dev(logits), dev(labels), reduction, dloss=dev(dloss) if reduction == "none" else dloss
        )
    )
    want_grad = reference.softmax_cross_entropy_backward(logits64, labels, reduction, dloss=dloss)
    assert_close(grad, want_grad, atol=1e-7, rtol=1e-5, what="dlogits")


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64])
def test_any_integer_label_dtype(backend, dtype, rng):
    logits, labels = f32(rng, 6, 4), rng.integers(0, 4, size=6)
    got = backend.numpy(
        ops.softmax_cross_entropy(backend.asarray(logits), backend.asarray(labels.astype(dtype)), "none")
    )
    assert_close(got, reference.softmax_cross_entropy(logits.astype(np.float64), labels, "none"), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("kind", ["index", "prob"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_reference_cross_entropy_backward_is_the_derivative(kind, reduction, rng):
    logits, labels = rng.standard_normal((4, 5)), _labels(kind, rng, 4, 5)
    if kind == "prob":
        labels = labels.astype(np.float64) * 1.3  # rows need not sum to 1
    dloss = rng.standard_normal(4) if reduction == "none" else 0.7
    weights = dloss if reduction == "none" else 1.0

    def loss(v):
        return np.sum(reference.softmax_cross_entropy(v, labels, reduction) * weights) * (
            1 if reduction == "none" else dloss
        )

    want = numerical_grad(loss, logits)
    got = reference.softmax_cross_entropy_backward(logits, labels, reduction, dloss=dloss)
    assert_close(got, want, atol=1e-7, rtol=1e-6)


def test_cross_entropy_index_and_one_hot_agree(rng):
    logits, labels = f32(rng, 9, 6), rng.integers(0, 6, size=9)
    one_hot = np.eye(6, dtype=np.float32)[labels]
    assert_close(
        ops.softmax_cross_entropy(logits, labels, "none"),
        ops.softmax_cross_entropy(logits, one_hot, "none"),
        atol=1e-6,
        rtol=1e-6,
    )
    assert_close(
        ops.softmax_cross_entropy_backward(logits, labels),
        ops.softmax_cross_entropy_backward(logits, one_hot),
        atol=1e-7,
        rtol=1e-6,
    )


def test_cross_entropy_bad_input_is_named():
    op = "softmax_cross_entropy"
    logits = np.zeros((3, 4), np.float32)
    for bad, value in [([0, 4, 1], 4), ([0, -1, 2], -1)]:
        with pytest.raises(ValueError, match=rf"\[{op}\] labels must be class indices in \[0, 4\), got {value}"):
            ops.softmax_cross_entropy(logits, np.array(bad))
        with pytest.raises(
            ValueError, match=rf"\[{op}_backward\] labels must be class indices in \[0, 4\), got {value}"
        ):
            ops.softmax_cross_entropy_backward(logits, np.array(bad))
    probs = np.full((3, 4), 0.25, np.float32)
    probs[1, 2] = np.nan
    with pytest.raises(ValueError, match=rf"\[{op}\] labels contain NaN"):
        ops.softmax_cross_entropy(logits, probs)
    with pytest.raises(ValueError, match=rf"\[{op}_backward\] labels contain NaN"):
        ops.softmax_cross_entropy_backward(logits, probs)
    with pytest.raises(TypeError, match=rf"\[{op}\] logits must be \(N, C\) float32, got \(3, 4\) float64"):
        ops.softmax_cross_entropy(logits.astype(np.float64), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=rf"\[{op}\] logits must be \(N, C\) float32, got \(4,\)"):
        ops.softmax_cross_entropy(logits[0], np.array([0]))
    with pytest.raises(TypeError, match=rf"\[{op}\] labels must be integer class indices"):
        ops.softmax_cross_entropy(logits, probs.astype(np.float64))
    with pytest.raises(ValueError, match=rf"\[{op}\] integer labels must be \(3,\)"):
        ops.softmax_cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match=rf"\[{op}\] probability labels must be \(3, 4\)"):
        ops.softmax_cross_entropy(logits, probs[:, :3])
    with pytest.raises(ValueError, match=rf"\[{op}\] logits must have at least one class"):
        ops.softmax_cross_entropy(np.zeros((3, 0), np.float32), np.array([0, 0, 0]))
    with pytest.raises(ValueError, match=rf"\[{op}\] reduction must be one of 'mean', 'sum', 'none', got 'avg'"):
        ops.softmax_cross_entropy(logits, np.array([0, 1, 2]), "avg")
    with pytest.raises(ValueError, match=rf"\[{op}_backward\] dloss must be a scalar for reduction 'mean'"):
        ops.softmax_cross_entropy_backward(logits, np.array([0, 1, 2]), dloss=np.ones(3, np.float32))
    with pytest.raises(ValueError, match=rf"\[{op}_backward\] dloss must be a scalar or \(3,\)"):
        ops.softmax_cross_entropy_backward(logits, np.array([0, 1, 2]), "none", dloss=np.ones(2, np.float32))


def test_softmax_bad_input_is_named():
    with pytest.raises(TypeError, match=r"\[softmax\] x must be a float32 array, got \(2, 3\) float64"):
        ops.softmax(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\[log_softmax\] axis 2 is out of range for an array of rank 2"):
        ops.log_softmax(np.zeros((2, 3), np.float32), axis=2)
    with pytest.raises(ValueError, match=r"\[softmax\] x must have at least one axis"):
        ops.softmax(np.float32(1.0) * np.ones((), np.float32))
    with pytest.raises(ValueError, match=r"\[softmax_backward\] dy and y must have the same shape"):
        ops.softmax_backward(np.zeros((2, 3), np.float32), np.zeros((3, 2), np.float32))


def test_raw_module_refuses_bad_labels_and_shapes():
    """The compiled module is where the checks live: called directly, it names the op and argument too."""
    logits = np.zeros((3, 4), np.float32)
    with pytest.raises(
        ValueError, match=r"\[softmax_cross_entropy\] labels must be class indices in \[0, 4\), got 9 at position 1"
    ):
        _cpu.softmax_cross_entropy(logits, np.array([0, 9, 1], np.int64), "mean")
    with pytest.raises(
        ValueError,
        match=r"\[softmax_cross_entropy\] integer labels must be \(3,\) to match logits \(3, 4\), got \(2,\) int32",
    ):
        _cpu.softmax_cross_entropy(logits, np.array([0, 1], np.int32), "none")
    with pytest.raises(TypeError, match=r"\[softmax_cross_entropy_backward\] labels must be an array .*, got list"):
        _cpu.softmax_cross_entropy_backward(logits, [0, 1, 1])
    with pytest.raises(
        ValueError, match=r"\[softmax_cross_entropy_backward\] dloss must be a scalar or \(3,\) for reduction 'none'"
    ):
        _cpu.softmax_cross_entropy_backward(logits, np.array([0, 1, 1]), "none", np.ones(4, np.float32))
    with pytest.raises(ValueError, match=r"\[softmax\] axis -3 is out of range for an array of rank 2"):
        _cpu.softmax(logits, -3)
    with pytest.raises(TypeError, match=r"\[softmax\] axis must be an int, got 1.0"):
        _cpu.softmax(logits, 1.0)
    with pytest.raises(
        ValueError, match=r"\[log_softmax_backward\] dy and y must have the same shape, got \(3, 5\) and \(3, 4\)"
    ):
        _cpu.log_softmax_backward(np.zeros((3, 5), np.float32), logits)
    assert _cpu.softmax_cross_entropy(logits, np.array([0, 1, 1], np.uint8)).shape == ()


def test_strided_inputs_are_read_as_their_values(rng):
    """Strided arrays are copied once, densely, never misread."""
    x = f32(rng, 6, 8)
    labels = np.array([0, 3, 1, 7, 2, 5, 4, 6, 1, 0, 2, 3])
    for fn in FUNCS:
        got = getattr(ops, fn)(x[:, ::2], axis=0)
        np.testing.assert_array_equal(got, getattr(ops, fn)(np.ascontiguousarray(x[:, ::2]), axis=0))
        dx = getattr(ops, f"{fn}_backward")(x[::2], np.asfortranarray(x[::2]))
        np.testing.assert_array_equal(dx, getattr(ops, f"{fn}_backward")(x[::2].copy(), x[::2].copy()))
    got = ops.softmax_cross_entropy_backward(x[:, ::2], labels[::2] % 4, "none", np.ones(12, np.float32)[::2])
    want = ops.softmax_cross_entropy_backward(
        x[:, ::2].copy(), (labels[::2] % 4).copy(), "none", np.ones(6, np.float32)
    )
    np.testing.assert_array_equal(got, want)
    probs = np.full((6, 8), 0.25, np.float32)
    np.testing.assert_array_equal(
        ops.softmax_cross_entropy(x[:, ::2], probs[:, 1::2], "none"),
        ops.softmax_cross_entropy(x[:, ::2].copy(), probs[:, 1::2].copy(), "none"),
    )


def test_a_size_one_array_is_a_scalar_dloss(rng):
    x, labels = f32(rng, 3, 4), np.array([0, 1, 2])
    np.testing.assert_array_equal(
        ops.softmax_cross_entropy_backward(x, labels, "sum", np.array([0.5], np.float32)),
        ops.softmax_cross_entropy_backward(x, labels, "sum", 0.5),
    )

"""mse and binary_cross_entropy: kernels against the reference, reference
against finite differences, Keras' clipping and stability at large logits."""

import numpy as np
import pytest
from helpers import EPS32, assert_close, f32, numerical_grad

import ranvier
from ranvier import _cpu, ops, reference

REDUCTIONS = ["mean", "sum", "none"]
SHAPES = [(1,), (7,), (5, 1), (5, 3), (4, 1001), (3, 2, 5), (2000, 10)]
LOSSES = ["mse", "bce_probabilities", "bce_logits"]


def _case(loss, shape, rng):
    """(name of the op, pred, target, extra keyword arguments)."""
    if loss == "mse":
        return "mse", f32(rng, *shape), f32(rng, *shape), {}
    target = (rng.random(shape) < 0.5).astype(np.float32)
    if loss == "bce_logits":
        return "binary_cross_entropy", f32(rng, *shape, scale=4.0), target, {"from_logits": True}
    pred = rng.uniform(0.01, 0.99, shape).astype(np.float32)
    return "binary_cross_entropy", pred, target, {"from_logits": False}


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_and_backward_match_reference(backend, isa, loss, reduction, shape, rng):
    op, pred, target, kw = _case(loss, shape, rng)
    dev = backend.asarray
    got = backend.numpy(getattr(ops, op)(dev(pred), dev(target), reduction, **kw))
    p64, t64 = pred.astype(np.float64), target.astype(np.float64)
    want = getattr(reference, op)(p64, t64, reduction, **kw)
    assert got.shape == np.shape(want) and got.dtype == np.float32
    assert_close(got, want, atol=1e-6, rtol=1e-5, what=op)
    dloss = f32(rng, shape[0]) if reduction == "none" else 0.7
    grad = backend.numpy(
        getattr(ops, f"{op}_backward")(
            dev(pred), dev(target), reduction, dloss=dev(dloss) if reduction == "none" else dloss, **kw
        )
    )
    want_grad = getattr(reference, f"{op}_backward")(p64, t64, reduction, dloss=dloss, **kw)
    # sigmoid(x) - t cancels: its absolute error is a few ulps of 1, times the row's factor
    factor = np.max(np.abs(dloss)) / (pred.size // shape[0]) / (shape[0] if reduction == "mean" else 1)
    assert_close(grad, want_grad, atol=4 * EPS32 * factor, rtol=1e-5, what=f"{op}_backward")


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_reference_backward_is_the_derivative(loss, reduction, rng):
    op, pred, target, kw = _case(loss, (3, 4), rng)
    pred, target = pred.astype(np.float64), rng.random((3, 4))  # soft targets too
    dloss = rng.standard_normal(3) if reduction == "none" else 0.7
    f = getattr(reference, op)

    def total(v):
        return np.sum(f(v, target, reduction, **kw) * dloss)

    want = numerical_grad(total, pred)
    got = getattr(reference, f"{op}_backward")(pred, target, reduction, dloss=dloss, **kw)
    assert_close(got, want, atol=1e-7, rtol=1e-6, what=f"d{op}")


def test_probabilities_are_clipped_as_keras_does(backend, isa):
    pred = np.array([[0.0, 1.0, 0.0, 1.0, 1e-9, 0.5]], np.float32)
    target = np.array([[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]], np.float32)
    got = backend.numpy(ops.binary_cross_entropy(backend.asarray(pred), backend.asarray(target), "none"))
    per_element = np.array([-np.log(1e-7), -np.log(1e-7), -np.log1p(-1e-7), -np.log1p(-1e-7), -np.log(1e-7), np.log(2)])
    assert_close(got, [per_element.mean()], atol=1e-6, rtol=1e-6)
    grad = backend.numpy(ops.binary_cross_entropy_backward(backend.asarray(pred), backend.asarray(target), "sum"))
    assert np.array_equal(grad[0, :5], np.zeros(5, np.float32))  # the clip holds p: no gradient
    assert_close(grad[0, 5], -2.0 / 6, atol=0, rtol=1e-6)


def test_large_logits_stay_finite_and_correct(backend, isa):
    x = np.array([[1e4, -1e4, 1e4, -1e4, 88.0, -90.0, 0.0]], np.float32)
    t = np.array([[1.0, 0.0, 0.0, 1.0, 0.3, 0.7, 0.5]], np.float32)
    dev = backend.asarray
    got = backend.numpy(ops.binary_cross_entropy(dev(x), dev(t), "none", from_logits=True))
    want = reference.binary_cross_entropy(x.astype(np.float64), t.astype(np.float64), "none", from_logits=True)
    assert np.all(np.isfinite(got))
    assert_close(got, want, atol=1e-6, rtol=1e-6)
    grad = backend.numpy(ops.binary_cross_entropy_backward(dev(x), dev(t), "sum", from_logits=True))
    assert_close(grad, [[0, 0, 1 / 7, -1 / 7, 0.7 / 7, -0.7 / 7, 0]], atol=1e-7, rtol=1e-6)


def test_nan_is_not_hidden(backend, isa):
    pred = np.array([[np.nan, 0.5], [0.2, 0.5]], np.float32)
    t = np.ones_like(pred)
    for kw in ({"from_logits": True}, {"from_logits": False}):
        loss = backend.numpy(ops.binary_cross_entropy(backend.asarray(pred), backend.asarray(t), "none", **kw))
        assert np.isnan(loss[0]) and np.isfinite(loss[1])
        grad = backend.numpy(ops.binary_cross_entropy_backward(backend.asarray(pred), backend.asarray(t), **kw))
        assert np.isnan(grad[0, 0]) and np.all(np.isfinite(grad[1]))


def test_empty_batch(backend):
    empty = backend.asarray(np.zeros((0, 3), np.float32))
    for op in ("mse", "binary_cross_entropy"):
        assert backend.numpy(getattr(ops, op)(empty, empty, "none")).shape == (0,)
        assert float(backend.numpy(getattr(ops, op)(empty, empty, "sum"))) == 0
        assert np.isnan(float(backend.numpy(getattr(ops, op)(empty, empty))))
        assert backend.numpy(getattr(ops, f"{op}_backward")(empty, empty)).shape == (0, 3)


@pytest.mark.parametrize("op", ["mse", "binary_cross_entropy"])
def test_bad_input_is_named(op):
    a = np.zeros((3, 2), np.float32)
    with pytest.raises(TypeError, match=rf"\[{op}\] pred must be a float32 array, got \(3, 2\) float64"):
        getattr(ops, op)(a.astype(np.float64), a)
    with pytest.raises(TypeError, match=rf"\[{op}\] target must be a float32 array"):
        getattr(ops, op)(a, a.astype(np.int32))
    with pytest.raises(
        ValueError, match=rf"\[{op}\] pred and target must have the same shape, got \(3, 2\) and \(2, 3\)"
    ):
        getattr(ops, op)(a, a.T.copy())
    with pytest.raises(ValueError, match=rf"\[{op}\] pred must be \(N, ...\) with a batch axis"):
        getattr(ops, op)(np.float32(1) * np.ones((), np.float32), np.ones((), np.float32))
    with pytest.raises(ValueError, match=rf"\[{op}\] pred must have at least one element per sample"):
        getattr(ops, op)(np.zeros((3, 0), np.float32), np.zeros((3, 0), np.float32))
    with pytest.raises(ValueError, match=rf"\[{op}\] reduction must be one of"):
        getattr(ops, op)(a, a, "batch")
    with pytest.raises(ValueError, match=rf"\[{op}_backward\] dloss must be a scalar for reduction 'sum'"):
        getattr(ops, f"{op}_backward")(a, a, "sum", dloss=np.ones(3, np.float32))
    with pytest.raises(TypeError, match=rf"\[{op}_backward\] dloss must be a float32 array"):
        getattr(ops, f"{op}_backward")(a, a, "none", dloss=np.ones(3))


def test_raw_module_names_the_op_and_argument():
    """The compiled module is where the checks live: called directly, it gives the ops' errors."""
    a = np.zeros((3, 2), np.float32)
    with pytest.raises(TypeError, match=r"\[mse\] pred must be a float32 array, got \(3, 2\) float64"):
        _cpu.mse(a.astype(np.float64), a)
    with pytest.raises(
        ValueError, match=r"\[binary_cross_entropy\] reduction must be one of 'mean', 'sum', 'none', got None"
    ):
        _cpu.binary_cross_entropy(a, a, None)
    with pytest.raises(
        ValueError, match=r"\[mse_backward\] dloss must be a scalar or \(3,\) for reduction 'none', got \(2,\) float32"
    ):
        _cpu.mse_backward(a, a, "none", np.ones(2, np.float32))
    with pytest.raises(TypeError, match=r"\[binary_cross_entropy_backward\] dloss must be an array .*, got bool"):
        _cpu.binary_cross_entropy_backward(a, a, "mean", False, True)
    assert _cpu.mse(a, a).shape == () and _cpu.mse(a, a, "none").shape == (3,)


def test_strided_inputs_are_read_as_their_values(rng):
    """Strided pred, target and dloss are copied once, densely, never misread."""
    pred, target, dloss = f32(rng, 6, 8), f32(rng, 6, 8), f32(rng, 12)
    for op in ("mse", "binary_cross_entropy"):
        got = getattr(ops, f"{op}_backward")(pred[::2, 1::2], target.T[1::2, ::2].T, "none", dloss=dloss[::4])
        want = getattr(ops, f"{op}_backward")(
            pred[::2, 1::2].copy(), target.T[1::2, ::2].T.copy(), "none", dloss=dloss[::4].copy()
        )
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.bool_])
def test_integer_and_bool_targets_of_mse_and_bce_are_cast_as_keras(dtype):
    pred = ranvier.Tensor(np.array([[0.2], [0.7], [0.9]], np.float32))
    target = np.array([0, 1, 1]).astype(dtype)
    want = np.array([0.0, 1.0, 1.0], np.float32)
    for loss in (ranvier.losses.MeanSquaredError(), ranvier.losses.BinaryCrossentropy()):
        assert loss(target, pred).item() == pytest.approx(loss(want, pred).item(), rel=1e-6)

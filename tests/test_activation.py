"""Activations: kernels against the reference, reference against finite differences."""

import numpy as np
import pytest
from helpers import assert_close, f32, num_threads, numerical_grad

from ranvier import activations, ops, reference
from ranvier.reference.activation import SAVES_INPUT

ACTS = [a for a in activations.FUSED if a != "linear"]  # every activation the kernels fuse
# the parameterised ones, with values other than Keras' defaults (negative_slope, max_value, threshold for relu_general)
PARAMS = [
    ("leaky_relu", (0.0,)),
    ("leaky_relu", (0.01,)),
    ("leaky_relu", (2.5,)),
    ("elu", (0.0,)),
    ("elu", (0.3,)),
    ("elu", (2.0,)),
    ("relu_general", ()),
    ("relu_general", (0.0, 6.0, 0.0)),
    ("relu_general", (0.1, None, 0.5)),
    ("relu_general", (0.2, 3.0, 1.0)),
    ("relu_general", (0.3, 2.0, -1.0)),
    ("relu_general", (0.0, 0.0, 0.0)),
]
SIZES = [0, 1, 7, 16, 17, 1000, 70001]


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("n", SIZES)
def test_forward_and_backward_match_reference(backend, isa, act, n, rng):
    x = f32(rng, n, scale=4.0)
    dy = f32(rng, n)
    y = backend.numpy(getattr(ops, act)(backend.asarray(x)))
    want = getattr(reference, act)(x.astype(np.float64))
    assert_close(y, want, atol=1e-6, rtol=1e-5, what=f"{act} forward")
    saved = x if act in SAVES_INPUT else y
    dx = backend.numpy(getattr(ops, f"{act}_backward")(backend.asarray(dy), backend.asarray(saved)))
    want_dx = getattr(reference, f"{act}_backward")(dy.astype(np.float64), saved.astype(np.float64))
    assert_close(dx, want_dx, atol=1e-6, rtol=1e-5, what=f"{act} backward")


@pytest.mark.parametrize("offset", [0, 1, 5, 15])
def test_large_outputs_written_past_the_caches(isa, offset, rng):
    """From 2^20 floats the kernels stream their output: the head before the first 64-byte
    boundary of each thread's chunk, the streamed middle and the tail must all land, whatever
    the alignment of the inputs."""
    from ranvier import _cpu

    n = (1 << 20) + 37
    x, dy = f32(rng, n + 16, scale=4.0)[offset : offset + n], f32(rng, n + 16)[offset : offset + n]
    for threads in (1, 2):
        with num_threads(threads):
            assert_close(_cpu.relu(x), reference.relu(x.astype(np.float64)), atol=0, rtol=0, what="relu forward")
            assert_close(
                _cpu.gelu_backward(dy, x),
                reference.gelu_backward(dy.astype(np.float64), x.astype(np.float64)),
                atol=1e-6,
                rtol=1e-5,
                what="gelu backward",
            )


@pytest.mark.parametrize("act", ACTS)
def test_extreme_inputs_stay_finite(backend, isa, act):
    """Finite where the float32 value is (softplus(1e4) = 1e4, elu(-1e4) = -1), inf only where float32 overflows
    (exponential above 88.72)."""
    x = np.array([-1e4, -100, -88.8, -30, -1e-7, 0, 1e-7, 30, 88.7, 88.8, 100, 1e4, 3e38], dtype=np.float32)
    y = backend.numpy(getattr(ops, act)(backend.asarray(x)))
    with np.errstate(over="ignore"):
        want = getattr(reference, act)(x.astype(np.float64)).astype(np.float32)
    assert np.array_equal(np.isinf(y), np.isinf(want)) and np.array_equal(y[np.isinf(y)], want[np.isinf(y)]), act
    finite = np.isfinite(want)
    assert_close(y[finite], want[finite], atol=1e-6, rtol=1e-5, what=act)


@pytest.mark.parametrize("act", ["elu", "selu", "silu", "softplus", "softsign", "exponential", "leaky_relu"])
def test_near_zero_keeps_relative_accuracy(isa, act, rng):
    """elu's exp(x) - 1 and softplus' log(1 + t) must not cancel: small inputs keep their relative accuracy."""
    x = (rng.standard_normal(4097) * 10.0 ** rng.uniform(-8, 0, 4097)).astype(np.float32)
    y = getattr(ops, act)(x)
    want = getattr(reference, act)(x.astype(np.float64))
    assert_close(y, want, atol=0, rtol=2e-6, what=act)


@pytest.mark.parametrize("act,params", PARAMS)
@pytest.mark.parametrize("n", [0, 1, 17, 70001])
def test_parameters_match_reference(backend, isa, act, params, n, rng):
    x = f32(rng, n, scale=4.0)
    x[: n // 4] = np.round(x[: n // 4])  # exact 0, thresholds and max_values among the inputs
    dy = f32(rng, n)
    y = backend.numpy(getattr(ops, act)(backend.asarray(x), *params))
    assert_close(y, getattr(reference, act)(x.astype(np.float64), *params), atol=1e-6, rtol=1e-5, what=act)
    saved = x if act in SAVES_INPUT else y
    dx = backend.numpy(getattr(ops, f"{act}_backward")(backend.asarray(dy), backend.asarray(saved), *params))
    want = getattr(reference, f"{act}_backward")(dy.astype(np.float64), saved.astype(np.float64), *params)
    assert_close(dx, want, atol=1e-6, rtol=1e-5, what=f"{act} backward")


@pytest.mark.parametrize("act,params", PARAMS)
def test_reference_backward_with_parameters_is_the_derivative(act, params, rng):
    x = rng.standard_normal(12) * 4
    kinks = [0.0] + [p for p in params if p is not None]
    for k in kinks:
        x[np.abs(x - k) < 1e-2] = k + 0.37
    dy = rng.standard_normal(12)
    f = getattr(reference, act)
    saved = x if act in SAVES_INPUT else f(x, *params)
    want = numerical_grad(lambda v: np.sum(f(v, *params) * dy), x)
    got = getattr(reference, f"{act}_backward")(dy, saved, *params)
    assert_close(got, want, atol=1e-6, rtol=1e-5, what=f"d{act}{params}")


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda x: ops.leaky_relu(x, -0.1), ValueError, r"\[leaky_relu\] negative_slope must be in \[0, "),
        (lambda x: ops.leaky_relu(x, float("nan")), ValueError, r"\[leaky_relu\] negative_slope must be"),
        (lambda x: ops.leaky_relu(x, "0.2"), TypeError, r"\[leaky_relu\] negative_slope must be a real number"),
        (lambda x: ops.elu(x, 1e39), ValueError, r"\[elu\] alpha must be in \[0, "),
        (lambda x: ops.elu_backward(x, x, -1.0), ValueError, r"\[elu_backward\] alpha must be"),
        (lambda x: ops.relu_general(x, 0.0, -1.0), ValueError, r"\[relu_general\] max_value must be"),
        (lambda x: ops.relu_general(x, 0.0, None, float("inf")), ValueError, r"\[relu_general\] threshold must be"),
        (lambda x: ops.relu_general(x, True), TypeError, r"\[relu_general\] negative_slope must be a real number"),
        (lambda x: ops.relu_general_backward(x, x[:2]), ValueError, r"\[relu_general_backward\] dy and x must"),
    ],
)
def test_bad_parameters_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call(np.zeros(3, np.float32))


@pytest.mark.parametrize("act", ACTS)
def test_reference_backward_is_the_derivative(act, rng):
    x = rng.standard_normal(9) * 3
    x[np.abs(x) < 1e-3] = 0.5  # keep relu away from its kink
    x[np.abs(np.abs(x) - 3) < 1e-3] = 2.5  # and hard_sigmoid from its
    dy = rng.standard_normal(9)
    f = getattr(reference, act)
    y = f(x)
    saved = x if act in SAVES_INPUT else y
    want = numerical_grad(lambda v: np.sum(f(v) * dy), x)
    got = getattr(reference, f"{act}_backward")(dy, saved)
    assert_close(got, want, atol=1e-6, rtol=1e-5, what=f"d{act}")


def test_non_contiguous_and_nd_inputs(backend, rng):
    x = f32(rng, 6, 10, 4)[:, ::2, 1:]
    y = backend.numpy(ops.gelu(backend.asarray(x)))
    assert y.shape == x.shape
    assert_close(y, reference.gelu(x.astype(np.float64)), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("act", ACTS)
def test_bad_input_is_named(act):
    with pytest.raises(TypeError, match=rf"\[{act}\] x must be a float32 array, got \(3,\) float64"):
        getattr(ops, act)(np.zeros(3))
    with pytest.raises(TypeError, match=rf"\[{act}\] x must be an array"):
        getattr(ops, act)([1.0, 2.0])
    saved = "x" if act in SAVES_INPUT else "y"
    with pytest.raises(ValueError, match=rf"\[{act}_backward\] dy and {saved} must have the same shape"):
        getattr(ops, f"{act}_backward")(np.zeros(3, np.float32), np.zeros(4, np.float32))
    with pytest.raises(TypeError, match=rf"\[{act}_backward\] dy must be a float32 array"):
        getattr(ops, f"{act}_backward")(np.zeros(3, np.int32), np.zeros(3, np.float32))


def test_raw_kernels_refuse_bad_arrays():
    """The compiled module is where the checks live: called directly, it names the op and argument too."""
    from ranvier import _cpu

    with pytest.raises(TypeError, match=r"\[sigmoid\] x must be a float32 array, got \(2, 3\) int64"):
        _cpu.sigmoid(np.zeros((2, 3), np.int64))
    with pytest.raises(TypeError, match=r"\[tanh\] x must be an array .*, got list"):
        _cpu.tanh([1.0])
    with pytest.raises(
        ValueError, match=r"\[gelu_backward\] dy and x must have the same shape, got \(2, 3\) and \(3, 2\)"
    ):
        _cpu.gelu_backward(np.zeros((2, 3), np.float32), np.zeros((3, 2), np.float32))
    with pytest.raises(TypeError, match=r"\[relu_backward\] y must be a float32 array, got \(3,\) float64"):
        _cpu.relu_backward(np.zeros(3, np.float32), np.zeros(3))


def test_strided_backward_inputs_are_read_as_their_values(rng):
    dy, y = f32(rng, 8, 6)[:, ::2], np.asfortranarray(f32(rng, 8, 3))
    dx = ops.tanh_backward(dy, y)
    assert_close(dx, reference.tanh_backward(dy.astype(np.float64), y.astype(np.float64)), atol=1e-6, rtol=1e-5)

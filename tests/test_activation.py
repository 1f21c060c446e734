"""Activations: kernels against the reference, reference against finite differences."""
import numpy as np
import pytest
from helpers import assert_close, f32, numerical_grad

from ranvier import ops, reference

ACTS = ["relu", "sigmoid", "tanh", "gelu"]
SIZES = [0, 1, 7, 16, 17, 1000, 70001]


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("n", SIZES)
def test_forward_and_backward_match_reference(backend, isa, act, n, rng):
    x = f32(rng, n, scale=4.0)
    dy = f32(rng, n)
    y = backend.numpy(getattr(ops, act)(backend.asarray(x)))
    want = getattr(reference, act)(x.astype(np.float64))
    assert_close(y, want, atol=1e-6, rtol=1e-5, what=f"{act} forward")
    saved = x if act == "gelu" else y
    dx = backend.numpy(getattr(ops, f"{act}_backward")(backend.asarray(dy), backend.asarray(saved)))
    want_dx = getattr(reference, f"{act}_backward")(dy.astype(np.float64), saved.astype(np.float64))
    assert_close(dx, want_dx, atol=1e-6, rtol=1e-5, what=f"{act} backward")


@pytest.mark.parametrize("offset", [0, 1, 5, 15])
def test_large_outputs_written_past_the_caches_at_any_alignment(isa, offset, rng):
    """From 2^20 floats the op-level kernels stream their output: the head before the first
    64-byte boundary, the streamed middle and the tail must all land, and nothing outside."""
    from ranvier import _cpu
    n = (1 << 20) + 37
    x, dy = f32(rng, n, scale=4.0), f32(rng, n)
    buf = np.full(n + 16, np.nan, np.float32)
    y = buf[offset:offset + n]
    _cpu.activation_forward(y, x, "relu")
    assert_close(y, reference.relu(x.astype(np.float64)), atol=0, rtol=0, what="relu forward")
    _cpu.activation_backward(y, dy, x, "gelu")
    assert_close(y, reference.gelu_backward(dy.astype(np.float64), x.astype(np.float64)), atol=1e-6, rtol=1e-5,
                 what="gelu backward")
    assert np.isnan(buf[:offset]).all() and np.isnan(buf[offset + n:]).all()
    # an output that is not even float-aligned is written the usual way
    raw = bytearray(4 * n + 8)
    odd = np.frombuffer(raw, np.float32, count=n, offset=2)
    _cpu.activation_forward(odd, x, "relu")
    assert_close(odd, reference.relu(x.astype(np.float64)), atol=0, rtol=0, what="relu forward, unaligned output")


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "gelu", "relu"])
def test_extreme_inputs_stay_finite(backend, act):
    x = np.array([-1e4, -100, -88.8, -30, -1e-7, 0, 1e-7, 30, 88.8, 100, 1e4], dtype=np.float32)
    y = backend.numpy(getattr(ops, act)(backend.asarray(x)))
    assert_close(y, getattr(reference, act)(x.astype(np.float64)), atol=1e-6, rtol=1e-5, what=act)


@pytest.mark.parametrize("act", ACTS)
def test_reference_backward_is_the_derivative(act, rng):
    x = rng.standard_normal(9) * 3
    x[np.abs(x) < 1e-3] = 0.5  # keep relu away from its kink
    dy = rng.standard_normal(9)
    f = getattr(reference, act)
    y = f(x)
    saved = x if act == "gelu" else y
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
    saved = "x" if act == "gelu" else "y"
    with pytest.raises(ValueError, match=rf"\[{act}_backward\] dy and {saved} must have the same shape"):
        getattr(ops, f"{act}_backward")(np.zeros(3, np.float32), np.zeros(4, np.float32))
    with pytest.raises(TypeError, match=rf"\[{act}_backward\] dy must be a float32 array"):
        getattr(ops, f"{act}_backward")(np.zeros(3, np.int32), np.zeros(3, np.float32))

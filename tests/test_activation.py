"""Activations: kernels against the reference, reference against finite differences."""

import numpy as np
import pytest
from helpers import assert_close, f32, num_threads, numerical_grad

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

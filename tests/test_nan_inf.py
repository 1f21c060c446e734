"""NaN and Inf through the ops and their fused epilogues (docs/DESIGN.md, "NaN and Inf"):
NaN in gives NaN where the result depends on it, an infinite input gives the limit,
on every ISA and backend, as the reference says."""

import numpy as np
import pytest
from helpers import f32

from ranvier import activations, ops, reference
from ranvier.reference.activation import SAVES_INPUT, SELU_ALPHA, SELU_SCALE

# inf * 0 and NaN arithmetic in the references are the point here
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

ACTS = [a for a in activations.FUSED if a != "linear"]  # every activation the kernels fuse
SPECIAL = np.float32([np.nan, np.inf, -np.inf, 0.0, 1.5, -1.5, 30.0, -30.0])

# The values at NaN and +-inf (forward; backward with dy = 1), written out.
LIMITS = {
    "relu": ([np.nan, np.inf, 0.0], [np.nan, 1.0, 0.0]),
    "sigmoid": ([np.nan, 1.0, 0.0], [np.nan, 0.0, 0.0]),
    "tanh": ([np.nan, 1.0, -1.0], [np.nan, 0.0, 0.0]),
    "gelu": ([np.nan, np.inf, 0.0], [np.nan, 1.0, 0.0]),
    "leaky_relu": ([np.nan, np.inf, -np.inf], [np.nan, 1.0, 0.2]),
    "elu": ([np.nan, np.inf, -1.0], [np.nan, 1.0, 0.0]),
    "selu": ([np.nan, np.inf, -SELU_SCALE * SELU_ALPHA], [np.nan, SELU_SCALE, 0.0]),
    "silu": ([np.nan, np.inf, 0.0], [np.nan, 1.0, 0.0]),
    "softplus": ([np.nan, np.inf, 0.0], [np.nan, 1.0, 0.0]),
    "softsign": ([np.nan, 1.0, -1.0], [np.nan, 0.0, 0.0]),
    "hard_sigmoid": ([np.nan, 1.0, 0.0], [np.nan, 0.0, 0.0]),
    "exponential": ([np.nan, np.inf, 0.0], [np.nan, np.inf, 0.0]),
}


def same_values(got, want, what, atol=1e-5, rtol=1e-5):
    """Equal NaN and inf positions, and close finite values."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, what
    assert np.array_equal(np.isnan(got), np.isnan(want)), f"{what}: NaN at {np.isnan(got)}, want {np.isnan(want)}"
    np.testing.assert_allclose(got[~np.isnan(want)], want[~np.isnan(want)], atol=atol, rtol=rtol, err_msg=what)


def f64(*arrays):
    return [None if a is None else a.astype(np.float64) for a in arrays]


@pytest.mark.parametrize("act", ACTS)
def test_reference_activations_at_nan_and_inf(act):
    forward, backward = LIMITS[act]
    x = SPECIAL[:3].astype(np.float64)
    same_values(getattr(reference, act)(x), forward, act, atol=0, rtol=0)
    saved = x if act in SAVES_INPUT else getattr(reference, act)(x)
    same_values(getattr(reference, f"{act}_backward")(np.ones(3), saved), backward, f"d{act}", atol=0, rtol=0)


@pytest.mark.parametrize("act", ACTS)
def test_activations_at_nan_and_inf(backend, isa, act):
    """In whole vectors and in the tail, so every lane position of each ISA is covered."""
    x = np.tile(SPECIAL, 5)[:37]
    dy = np.tile(np.float32([1.0, -2.0, np.nan, 0.5, np.inf]), 8)[:37]
    y = backend.numpy(getattr(ops, act)(backend.asarray(x)))
    same_values(y, getattr(reference, act)(x.astype(np.float64)), act)
    saved = x if act in SAVES_INPUT else y
    dx = backend.numpy(getattr(ops, f"{act}_backward")(backend.asarray(dy), backend.asarray(saved)))
    same_values(dx, getattr(reference, f"{act}_backward")(*f64(dy, saved)), f"{act} backward")


@pytest.mark.parametrize("act", [None, *ACTS])
def test_linear_epilogue(backend, isa, act, rng):
    x, w, b = f32(rng, 13, 9), f32(rng, 9, 70), f32(rng, 70)
    x[2, 4], x[7, 0], x[9, 1] = np.nan, np.inf, -np.inf
    y = backend.numpy(ops.linear(*map(backend.asarray, (x, w, b)), activation=act))
    same_values(y, reference.linear(*f64(x, w, b), activation=act), f"linear {act}", atol=1e-4)
    assert np.all(np.isnan(y[2]))


@pytest.mark.parametrize("act", [None, *ACTS])
def test_conv2d_epilogue(backend, isa, act, rng):
    x, w, b = f32(rng, 2, 7, 6, 3), f32(rng, 3, 3, 3, 20), f32(rng, 20)
    x[0, 3, 2, 1], x[1, 0, 5, 0] = np.nan, -np.inf
    y = backend.numpy(ops.conv2d(*map(backend.asarray, (x, w, b)), padding="same", activation=act))
    same_values(y, reference.conv2d(*f64(x, w, b), padding="same", activation=act), f"conv2d {act}", atol=1e-4)
    assert np.all(np.isnan(y[0, 2:5, 1:4]))


@pytest.mark.parametrize("act", [None, "relu", "gelu"])
def test_conv1d_epilogue(backend, isa, act, rng):
    x, w, b = f32(rng, 2, 11, 3), f32(rng, 3, 3, 20), f32(rng, 20)
    x[0, 5, 1], x[1, 0, 0] = np.nan, -np.inf
    y = backend.numpy(ops.conv1d(*map(backend.asarray, (x, w, b)), padding="causal", activation=act))
    same_values(y, reference.conv1d(*f64(x, w, b), padding="causal", activation=act), f"conv1d {act}", atol=1e-4)
    assert np.all(np.isnan(y[0, 5:8])) and not np.any(np.isnan(y[0, :5]))  # causal: only steps 5..7 see step 5


def test_conv2d_transpose_spreads_nan_to_its_footprint(backend, isa, rng):
    x, w, b = f32(rng, 2, 4, 5, 6), f32(rng, 3, 3, 4, 6), f32(rng, 4)
    x[0, 1, 2, 3] = np.nan
    y = backend.numpy(ops.conv2d_transpose(*map(backend.asarray, (x, w, b)), stride=2, padding="same"))
    same_values(y, reference.conv2d_transpose(*f64(x, w, b), stride=2, padding="same"), "conv2d_transpose", atol=1e-4)
    assert np.isnan(y[0]).sum() == 9 * 4 and not np.any(np.isnan(y[1]))  # a 3x3 footprint, every filter


@pytest.mark.parametrize("op", ["max_pool1d", "avg_pool1d"])
def test_pool1d(backend, isa, op, rng):
    x = f32(rng, 2, 9, 19)
    x[0, 4, 3], x[1, 0, 18], x[1, 7, 2] = np.nan, np.inf, -np.inf
    y = backend.numpy(getattr(ops, op)(backend.asarray(x), 3, 2, "same"))
    same_values(y, getattr(reference, op)(x.astype(np.float64), 3, 2, "same"), op)
    dy = f32(rng, *y.shape)
    dx = backend.numpy(getattr(ops, f"{op}_backward")(backend.asarray(dy), backend.asarray(x), 3, 2, "same"))
    want = getattr(reference, f"{op}_backward")(*f64(dy, x), 3, 2, "same")
    same_values(dx, want, f"{op}_backward")


def test_global_max_pool(backend, isa, rng):
    x = f32(rng, 3, 5, 4, 21)
    x[0, 1, 1, 0], x[0, 3, 2, 0], x[1, 4, 3, 20], x[2, 0, 0, 5] = np.nan, np.nan, np.inf, -np.inf
    y = backend.numpy(ops.global_max_pool(backend.asarray(x)))
    same_values(y, reference.global_max_pool(x), "global_max_pool")
    assert np.isnan(y[0, 0]) and y[1, 20] == np.inf and np.isnan(y).sum() == 1
    dy = f32(rng, 3, 21)
    dx = backend.numpy(ops.global_max_pool_backward(backend.asarray(dy), backend.asarray(x)))
    same_values(dx, reference.global_max_pool_backward(dy, x), "global_max_pool_backward")
    assert dx[0, 1, 1, 0] == dy[0, 0] and dx[0, 3, 2, 0] == 0  # the first NaN takes it


def test_lstm_gru_and_simple_rnn_cells(backend, isa, rng):
    """A NaN at step t of one sequence makes that sequence's h (and c) NaN from t on."""
    x = f32(rng, 3, 6, 5)
    x[1, 2, 3] = np.nan
    lstm_w = f32(rng, 5, 4 * 11, scale=0.3), f32(rng, 11, 4 * 11, scale=0.3), f32(rng, 4 * 11)
    gru_w = f32(rng, 5, 3 * 11, scale=0.3), f32(rng, 11, 3 * 11, scale=0.3), f32(rng, 2, 3 * 11)
    rnn_w = f32(rng, 5, 11, scale=0.3), f32(rng, 11, 11, scale=0.3), f32(rng, 11)
    for op, weights in (("lstm", lstm_w), ("gru", gru_w), ("simple_rnn", rnn_w)):
        h = backend.numpy(getattr(ops, op)(*map(backend.asarray, (x, *weights))))
        same_values(h, getattr(reference, op)(*f64(x, *weights)), op)
        assert np.all(np.isnan(h[1, 2:])) and not np.any(np.isnan(h[[0, 2]])) and not np.any(np.isnan(h[1, :2]))


def test_softmax_and_losses_of_a_nan_row(backend, isa, rng):
    """A NaN logit gives a NaN row (softmax, log_softmax) and a NaN loss for its sample only;
    a -inf logit is probability 0; the mean over the batch is NaN."""
    x = f32(rng, 4, 19)
    x[1, 7], x[2, 3] = np.nan, -np.inf
    labels = np.array([0, 1, 2, 5])
    xb = backend.asarray(x)
    for op in ("softmax", "log_softmax"):
        same_values(backend.numpy(getattr(ops, op)(xb)), getattr(reference, op)(x.astype(np.float64)), op)
    loss = backend.numpy(ops.softmax_cross_entropy(xb, backend.asarray(labels), reduction="none"))
    same_values(loss, reference.softmax_cross_entropy(x.astype(np.float64), labels, reduction="none"), "loss")
    assert np.isnan(loss).tolist() == [False, True, False, False]
    assert np.isnan(backend.numpy(ops.softmax_cross_entropy(xb, backend.asarray(labels))))
    grad = backend.numpy(ops.softmax_cross_entropy_backward(xb, backend.asarray(labels), reduction="none"))
    same_values(grad, reference.softmax_cross_entropy_backward(x.astype(np.float64), labels, reduction="none"), "dx")
    t = np.full((4, 19), 1 / 19, np.float32)
    for op, kw in (("mse", {}), ("binary_cross_entropy", {"from_logits": True})):
        got = backend.numpy(getattr(ops, op)(xb, backend.asarray(t), reduction="none", **kw))
        assert np.isnan(got).tolist() == [False, True, False, False], op

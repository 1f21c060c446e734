"""need_dx=False: the backward ops skip the input gradient (dx is None) and
give the same weight gradients; the autograd asks for no dx of data, so a
model's first layer computes none, and training ends with the same weights."""

import numpy as np
import pytest
from helpers import f32

import ranvier
import ranvier.utils
from ranvier import _cpu, ops
from ranvier.layers import GRU, LSTM, Conv1D, Conv2D, Dense, Flatten, GlobalAveragePooling1D, SimpleRNN


def _same_weight_grads(backend, op, args, kwargs):
    """op's gradients with and without dx: dx None, the others the same bits."""
    dev = [backend.asarray(a) for a in args]
    full = op(*dev, **kwargs)
    skipped = op(*dev, **kwargs, need_dx=False)
    assert skipped[0] is None
    assert full[0] is not None and full[0].shape == args[1].shape
    assert len(full) == len(skipped)
    for i, (f, s) in enumerate(zip(full[1:], skipped[1:]), start=1):
        np.testing.assert_array_equal(backend.numpy(s), backend.numpy(f), err_msg=f"{op.__name__} output {i}")


# (rows, in, out): size 1, odd sizes, no rows, a layer shape
@pytest.mark.parametrize("rows,features,units", [(1, 1, 1), (7, 13, 29), (0, 5, 3), (33, 784, 128)])
@pytest.mark.parametrize("activation", [None, "relu", "gelu"])
def test_linear_backward(backend, isa, rows, features, units, activation, rng):
    x, w = f32(rng, rows, features), f32(rng, features, units)
    z = x @ w
    saved = {"z": z} if activation == "gelu" else {"y": np.maximum(z, 0)} if activation == "relu" else {}
    dy = f32(rng, rows, units)
    _same_weight_grads(
        backend,
        ops.linear_backward,
        (dy, x, w),
        dict(activation=activation, **{k: backend.asarray(v) for k, v in saved.items()}),
    )


# (x shape, w shape, stride, padding): 1x1 (the direct GEMM), few channels, many channels, size 1, no images
CONV2D = [
    ((2, 5, 7, 3), (1, 1, 3, 4), 1, "valid"),
    ((3, 9, 8, 1), (3, 3, 1, 5), 1, "same"),
    ((2, 11, 9, 33), (3, 3, 33, 17), 2, "same"),
    ((1, 1, 1, 1), (1, 1, 1, 1), 1, "valid"),
    ((0, 6, 6, 8), (3, 3, 8, 4), 1, "same"),
    ((5, 12, 12, 16), (5, 3, 16, 7), (2, 1), "valid"),
]


@pytest.mark.parametrize("xs,ws,stride,padding", CONV2D)
@pytest.mark.parametrize("activation", [None, "relu"])
def test_conv2d_backward(backend, isa, xs, ws, stride, padding, activation, rng):
    x, w = f32(rng, *xs), f32(rng, *ws)
    y = ops.conv2d(x, w, stride=stride, padding=padding, activation=activation)
    dy = f32(rng, *y.shape)
    kwargs = dict(stride=stride, padding=padding, activation=activation, y=backend.asarray(y))
    _same_weight_grads(backend, ops.conv2d_backward, (dy, x, w), kwargs)


@pytest.mark.parametrize(
    "xs,ws,padding",
    [
        ((2, 9, 3), (3, 3, 5), "causal"),
        ((1, 1, 1), (1, 1, 1), "valid"),
        ((0, 7, 4), (2, 4, 3), "same"),
        ((4, 31, 40), (5, 40, 9), "same"),
    ],
)
def test_conv1d_backward(backend, isa, xs, ws, padding, rng):
    x, w = f32(rng, *xs), f32(rng, *ws)
    y = ops.conv1d(x, w, padding=padding)
    _same_weight_grads(backend, ops.conv1d_backward, (f32(rng, *y.shape), x, w), dict(padding=padding))


@pytest.mark.parametrize("layer,gates", [("lstm", 4), ("gru", 3), ("simple_rnn", 1)])
@pytest.mark.parametrize("batch,steps,features,units", [(1, 1, 1, 1), (3, 5, 7, 6), (0, 4, 3, 2), (9, 13, 33, 17)])
def test_rnn_backward(backend, isa, layer, gates, batch, steps, features, units, rng):
    x = f32(rng, batch, steps, features)
    kernel, recurrent = f32(rng, features, gates * units, scale=0.3), f32(rng, units, gates * units, scale=0.3)
    bias = f32(rng, *((2, gates * units) if layer == "gru" else (gates * units,)))
    dev = backend.asarray
    *_, cache = getattr(ops, layer)(
        dev(x), dev(kernel), dev(recurrent), dev(bias), return_state=True, return_cache=True
    )
    args = (f32(rng, batch, steps, units), x, kernel, recurrent, bias)
    op = getattr(ops, f"{layer}_backward")
    full = op(*map(dev, args), cache)
    skipped = op(*map(dev, args), cache, need_dx=False)
    assert skipped[0] is None and full[0].shape == x.shape
    for i, (f, s) in enumerate(zip(full[1:], skipped[1:]), start=1):
        np.testing.assert_array_equal(backend.numpy(s), backend.numpy(f), err_msg=f"{layer}_backward output {i}")


# ---- the autograd and models --------------------------------------------------------------------------------


def _spy(monkeypatch, name, force_dx=False):
    """Records the need_dx of every call of the CPU module's <name> (what ranvier.ops calls, need_dx
    last); force_dx: always computes dx (the behavior before need_dx)."""
    seen = []
    real = getattr(_cpu, name)

    def spy(*args):
        seen.append(args[-1])
        return real(*args[:-1], True if force_dx else args[-1])

    monkeypatch.setattr(_cpu, name, spy)
    return seen


MODELS = {
    "mlp": (lambda: [Dense(9, activation="relu", input_shape=(13,)), Dense(4, activation="softmax")], (13,)),
    "cnn": (
        lambda: [
            Conv2D(5, 3, activation="relu", input_shape=(8, 7, 2)),
            Conv2D(6, 3, padding="same"),
            Flatten(),
            Dense(4, activation="softmax"),
        ],
        (8, 7, 2),
    ),
    "conv1d": (
        lambda: [
            Conv1D(5, 3, input_shape=(11, 3)),
            Conv1D(4, 2, activation="tanh"),
            GlobalAveragePooling1D(),
            Dense(4, activation="softmax"),
        ],
        (11, 3),
    ),
    "rnn": (
        lambda: [
            LSTM(5, return_sequences=True, input_shape=(6, 3)),
            GRU(4, return_sequences=True),
            SimpleRNN(3),
            Dense(4, activation="softmax"),
        ],
        (6, 3),
    ),
}
BACKWARD_OPS = [
    "linear_backward",
    "conv2d_backward",
    "conv1d_backward",
    "lstm_backward",
    "gru_backward",
    "simple_rnn_backward",
]


def _train(name, monkeypatch, force_dx):
    """The weights after three fit steps, and the need_dx of each backward op's calls in order."""
    layers, input_shape = MODELS[name]
    rng = np.random.default_rng(7)
    x = rng.standard_normal((24, *input_shape)).astype(np.float32)
    y = rng.integers(0, 4, 24)
    ranvier.utils.set_seed(3)
    model = ranvier.Sequential(layers())
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with monkeypatch.context() as patch:
        seen = {op: _spy(patch, op, force_dx) for op in BACKWARD_OPS}
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return model.get_weights(), {op: calls for op, calls in seen.items() if calls}


def test_first_layer_of_a_model_gets_no_dx(monkeypatch):
    """Per batch, the layers' backward ops run last layer first: every call asks for dx but the first layer's."""
    _, mlp = _train("mlp", monkeypatch, force_dx=False)
    assert mlp == {"linear_backward": [True, False] * 3}
    _, cnn = _train("cnn", monkeypatch, force_dx=False)
    assert cnn == {"linear_backward": [True] * 3, "conv2d_backward": [True, False] * 3}
    _, conv1d = _train("conv1d", monkeypatch, force_dx=False)
    assert conv1d == {"linear_backward": [True] * 3, "conv1d_backward": [True, False] * 3}
    _, rnn = _train("rnn", monkeypatch, force_dx=False)
    assert rnn == {
        "linear_backward": [True] * 3,
        "simple_rnn_backward": [True] * 3,
        "gru_backward": [True] * 3,
        "lstm_backward": [False] * 3,
    }


@pytest.mark.parametrize("name", sorted(MODELS))
def test_training_is_unchanged_by_the_skip(name, monkeypatch):
    skipping, _ = _train(name, monkeypatch, force_dx=False)
    computing, calls = _train(name, monkeypatch, force_dx=True)
    assert any(False in c for c in calls.values())  # the first layer was asked for no dx, given one anyway
    assert len(skipping) == len(computing)
    for a, b in zip(skipping, computing):
        np.testing.assert_array_equal(a, b)


def test_input_that_requires_grad_gets_its_gradient(monkeypatch):
    """A Tensor input with requires_grad=True (a saliency map, say) still gets dx, the same as before."""
    seen = _spy(monkeypatch, "linear_backward")
    rng = np.random.default_rng(0)
    x = ranvier.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    w = ranvier.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    ranvier.functional.linear(x, w).sum().backward()
    assert seen == [True]
    np.testing.assert_allclose(x.grad.numpy(), np.ones((4, 3)) @ w.data.T, rtol=1e-6)
    data = ranvier.tensor(rng.standard_normal((4, 5)))
    ranvier.functional.linear(data, w).sum().backward()
    assert seen == [True, False] and data.grad is None

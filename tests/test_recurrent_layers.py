"""SimpleRNN, LSTM, GRU and Bidirectional as layers: Keras' arguments and semantics.

Against NumPy (ranvier.reference and plain step formulas) everywhere, and
against Keras itself (KERAS_BACKEND=torch) when it is installed.
"""

import os

import numpy as np
import pytest
from helpers import assert_close

import ranvier
from ranvier import layers, reference

CLASSES = ["SimpleRNN", "LSTM", "GRU"]


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def built(layer, x):
    """layer after one call on x, its weights randomised (biases too, so they count)."""
    layer(x)
    rng = np.random.default_rng(5)
    for w in layer.weights:
        w.data[...] = rng.standard_normal(w.shape).astype(np.float32) * 0.5
    return layer


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def numpy_steps(cls, x, kernel, recurrent, bias, input_masks, recurrent_masks, reset_after=True):
    """Keras' cells, step by step in float64, with one input and one recurrent mask per gate
    (implementation 1); the masks are the same at every step. Returns the h sequence."""
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    gates = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[cls]
    h, c = np.zeros((batch, units)), np.zeros((batch, units))
    block = [slice(g * units, (g + 1) * units) for g in range(gates)]
    in_bias = bias[0] if cls == "GRU" and reset_after else bias
    hs = []
    for t in range(steps):
        xg = [(x[:, t] * input_masks[g]) @ kernel[:, block[g]] + in_bias[block[g]] for g in range(gates)]
        hm = [h * recurrent_masks[g] for g in range(gates)]
        if cls == "SimpleRNN":
            h = np.tanh(xg[0] + hm[0] @ recurrent)
        elif cls == "LSTM":
            z = [xg[g] + hm[g] @ recurrent[:, block[g]] for g in range(4)]
            c = sigmoid(z[1]) * c + sigmoid(z[0]) * np.tanh(z[2])
            h = sigmoid(z[3]) * np.tanh(c)
        else:
            rb = bias[1] if reset_after else np.zeros(3 * units)
            z = sigmoid(xg[0] + hm[0] @ recurrent[:, block[0]] + rb[block[0]])
            r = sigmoid(xg[1] + hm[1] @ recurrent[:, block[1]] + rb[block[1]])
            if reset_after:
                hh = np.tanh(xg[2] + r * (hm[2] @ recurrent[:, block[2]] + rb[block[2]]))
            else:
                hh = np.tanh(xg[2] + (r * hm[2]) @ recurrent[:, block[2]])
            h = z * h + (1 - z) * hh
        hs.append(h)
    return np.stack(hs, axis=1)


# ---- against NumPy -----------------------------------------------------------------------------------


def test_gru_layer_is_the_reference(rng):
    x = rand(rng, 3, 5, 4)
    layer = built(layers.GRU(6, return_sequences=True, return_state=True), x)
    layer.eval()
    out, h = layer(x)
    want, want_h = reference.gru(x.astype(np.float64), *(w.numpy() for w in layer.weights), return_state=True)
    assert [w.shape for w in layer.weights] == [(4, 18), (6, 18), (2, 18)]
    assert_close(out.numpy(), want, atol=1e-5, rtol=1e-5)
    assert_close(h.numpy(), want_h, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("reset_after", [True, False])
def test_go_backwards_reads_reversed_and_returns_in_that_order(cls, reset_after, rng):
    if cls != "GRU" and not reset_after:
        pytest.skip("reset_after is the GRU's")
    kwargs = {"reset_after": reset_after} if cls == "GRU" else {}
    x = rand(rng, 2, 6, 3)
    forward = built(getattr(layers, cls)(4, return_sequences=True, **kwargs), x)
    backward = getattr(layers, cls)(4, return_sequences=True, go_backwards=True, **kwargs)
    backward(x)
    backward.set_weights(forward.get_weights())
    np.testing.assert_allclose(backward(x).numpy(), forward(x[:, ::-1].copy()).numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls", CLASSES)
def test_step_path_is_the_fused_path(cls, rng, monkeypatch):
    """With no recurrent dropout (or in inference) the step-by-step path computes the fused kernel's
    function: the same outputs, states and gradients."""
    x = rand(rng, 3, 5, 4)
    layer = built(getattr(layers, cls)(6, return_sequences=True, return_state=True, recurrent_dropout=0.4), x)
    layer.eval()  # inference: no mask, so the fused kernel runs

    def run():
        xt = ranvier.tensor(x, requires_grad=True)
        for w in layer.weights:
            w.grad = None
        out, *states = layer(xt)
        weights = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
        loss = (out * weights).sum()
        for s in states:
            loss = loss + s.sum()
        loss.backward()
        return [out.numpy(), *(s.numpy() for s in states), xt.grad.numpy(), *(w.grad.numpy() for w in layer.weights)]

    fused = run()
    monkeypatch.setattr(type(layer), "_fused", lambda self, training: False)
    stepped = run()
    for a, b in zip(fused, stepped):
        assert_close(b, a, atol=2e-5, rtol=2e-5)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("recurrent_dropout", [0.0, 0.5])
def test_dropout_masks_are_fixed_over_time(cls, recurrent_dropout, rng, monkeypatch):
    """In training, dropout masks the inputs and recurrent_dropout h_{t-1}, one mask per sequence
    (per gate for the LSTM and GRU when recurrent_dropout > 0, as Keras' implementation 1)."""
    x = rand(rng, 3, 5, 4)
    layer = built(getattr(layers, cls)(6, return_sequences=True, dropout=0.3, recurrent_dropout=recurrent_dropout), x)
    drawn = []

    def fake_mask(like, shape, rate):
        mask = (np.random.default_rng(len(drawn)).random(shape) >= rate).astype(np.float32) / (1 - rate)
        drawn.append((shape, mask))
        return mask

    monkeypatch.setattr(layer, "_mask", fake_mask)
    layer.train()
    got = layer(x).numpy()
    gates = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[cls]
    per_gate = gates if recurrent_dropout > 0 else 1
    input_masks = [m[:, 0] for shape, m in drawn if shape == (3, 1, 4)]
    recurrent_masks = [m for shape, m in drawn if shape == (3, 6)]
    assert len(input_masks) == per_gate and len(recurrent_masks) == (per_gate if recurrent_dropout else 0)
    input_masks = input_masks * (gates // per_gate)
    recurrent_masks = recurrent_masks * (gates // per_gate) or [np.ones((3, 6))] * gates
    want = numpy_steps(
        cls, x.astype(np.float64), *(w.numpy().astype(np.float64) for w in layer.weights), input_masks, recurrent_masks
    )
    assert_close(got, want, atol=1e-5, rtol=1e-5)
    layer.eval()  # inference: no masks
    want = numpy_steps(
        cls, x.astype(np.float64), *(w.numpy() for w in layer.weights), [1.0] * gates, [np.ones((3, 6))] * gates
    )
    assert_close(layer(x).numpy(), want, atol=1e-5, rtol=1e-5)


def test_gru_reset_after_false_is_keras_original_gru(rng):
    x = rand(rng, 2, 4, 3)
    layer = built(layers.GRU(5, reset_after=False, return_sequences=True), x)
    assert [w.shape for w in layer.weights] == [(3, 15), (5, 15), (15,)]
    ones = [np.ones(1)] * 3
    want = numpy_steps("GRU", x.astype(np.float64), *(w.numpy() for w in layer.weights), ones, ones, False)
    assert_close(layer(x).numpy(), want, atol=1e-5, rtol=1e-5)


def test_seeded_dropout_is_reproducible_and_inference_is_not_masked(rng):
    x = rand(rng, 4, 6, 3)
    a = built(layers.GRU(5, dropout=0.5, recurrent_dropout=0.5, seed=3), x)
    b = layers.GRU(5, dropout=0.5, recurrent_dropout=0.5, seed=3)
    b(x)
    b.set_weights(a.get_weights())
    a.train(), b.train()
    first = a(x).numpy()
    np.testing.assert_array_equal(first, b(x).numpy())
    assert not np.allclose(first, a(x).numpy())  # a new mask each call
    a.eval()
    np.testing.assert_array_equal(a(x).numpy(), a(x).numpy())


def test_bidirectional_is_both_directions_merged(rng):
    x = rand(rng, 2, 5, 3)
    bi = layers.Bidirectional(layers.GRU(4, return_sequences=True, return_state=True, name="enc"), merge_mode=None)
    y, y_rev, h_f, h_b = bi(x)
    assert bi.forward_layer.name == "forward_enc" and bi.backward_layer.name == "backward_enc"
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards
    fw = [w.numpy().astype(np.float64) for w in bi.forward_layer.weights]
    bw = [w.numpy().astype(np.float64) for w in bi.backward_layer.weights]
    assert len(bi.weights) == 6 and all(a is b for a, b in zip(bi.weights, bi.forward_layer.weights))
    x64 = x.astype(np.float64)
    assert_close(y.numpy(), reference.gru(x64, *fw), atol=1e-5, rtol=1e-5)
    backwards = reference.gru(x64[:, ::-1], *bw)
    assert_close(y_rev.numpy(), backwards[:, ::-1], atol=1e-5, rtol=1e-5)  # back in time order
    assert_close(h_b.numpy(), backwards[:, -1], atol=1e-5, rtol=1e-5)
    assert_close(h_f.numpy(), y.numpy()[:, -1], atol=0, rtol=0)
    for mode, merge in [
        ("concat", lambda a, b: np.concatenate([a, b], -1)),
        ("sum", np.add),
        ("mul", np.multiply),
        ("ave", lambda a, b: (a + b) / 2),
    ]:
        other = layers.Bidirectional(layers.GRU(4, return_sequences=True), merge_mode=mode)
        other(x)
        other.set_weights(bi.get_weights())
        assert_close(other(x).numpy(), merge(y.numpy(), y_rev.numpy()), atol=1e-6, rtol=1e-6)


def test_bidirectional_takes_its_layer_input_shape():
    bi = layers.Bidirectional(layers.LSTM(4, input_shape=(6, 3)))
    assert bi.built and len(bi.parameters()) == 6 and bi.forward_layer.kernel.shape == (3, 16)


def test_bidirectional_initial_state_halves(rng):
    x = rand(rng, 2, 3, 3)
    bi = layers.Bidirectional(layers.LSTM(4))
    states = [rand(rng, 2, 4) for _ in range(4)]
    out = bi(x, initial_state=states).numpy()
    forward = bi.forward_layer(x, initial_state=states[:2]).numpy()
    backward = bi.backward_layer(x, initial_state=states[2:]).numpy()
    np.testing.assert_array_equal(out, np.concatenate([forward, backward], -1))


def test_refusals_name_the_layer_and_argument():
    with pytest.raises(ValueError, match=r"\[GRU\] stateful=True is not supported"):
        layers.GRU(3, stateful=True)
    with pytest.raises(ValueError, match=r"\[LSTM\] unroll=True is not supported"):
        layers.LSTM(3, unroll=True)
    with pytest.raises(ValueError, match=r"\[SimpleRNN\] dropout must be in \[0, 1\), got 1"):
        layers.SimpleRNN(3, dropout=1.0)
    with pytest.raises(ValueError, match=r"\[GRU\] recurrent_dropout must be a number in \[0.0, 1.0\], got 1.5"):
        layers.GRU(3, recurrent_dropout=1.5)
    with pytest.raises(ValueError, match=r"\[GRU\] activation must be one of .* got 'mish'"):
        layers.GRU(3, activation="mish")
    with pytest.raises(TypeError, match=r"\[LSTM\] recurrent_activation must be an activation name or a callable"):
        layers.LSTM(3, recurrent_activation=3)
    with pytest.raises(TypeError, match=r"\[GRU\] reset_after must be True or False"):
        layers.GRU(3, reset_after="yes")
    with pytest.raises(TypeError, match=r"\[SimpleRNN\] has no recurrent_activation"):
        layers.SimpleRNN(3, recurrent_activation="sigmoid")
    with pytest.raises(ValueError, match=r"\[GRU 'g'\] initial_state must hold 1 state\(s\) \(h\), got 2"):
        layers.GRU(3, name="g")(np.zeros((1, 2, 2), np.float32), initial_state=[None, None])
    for layer in (layers.GRU(3, name="g0"), layers.GRU(3, activation="relu", name="g0")):
        with pytest.raises(ValueError, match=r"\[GRU 'g0'\] inputs must have at least one time step"):
            layer(np.zeros((2, 0, 2), np.float32))
    with pytest.raises(ValueError, match=r"\[Bidirectional 'bi'\] merge_mode must be one of"):
        layers.Bidirectional(layers.GRU(3), merge_mode="max", name="bi")
    with pytest.raises(TypeError, match=r"\[Bidirectional '.*'\] layer must be a SimpleRNN, LSTM or GRU layer"):
        layers.Bidirectional(layers.Dense(3))
    with pytest.raises(ValueError, match=r"must differ in go_backwards, both have go_backwards=False"):
        layers.Bidirectional(layers.GRU(3), backward_layer=layers.GRU(3))
    with pytest.raises(ValueError, match=r"must differ in go_backwards, both have go_backwards=True"):
        layers.Bidirectional(layers.GRU(3, go_backwards=True))  # as Keras: its copy goes backwards too
    with pytest.raises(ValueError, match=r"must agree on return_sequences"):
        layers.Bidirectional(layers.GRU(3), backward_layer=layers.GRU(3, go_backwards=True, return_sequences=True))


def test_configs_round_trip_through_a_saved_model(tmp_path, rng):
    x = rand(rng, 2, 5, 3)
    model = ranvier.Sequential(
        [
            layers.Bidirectional(
                layers.GRU(4, return_sequences=True, dropout=0.1, recurrent_dropout=0.2, seed=1),
                merge_mode="sum",
                input_shape=(5, 3),
            ),
            layers.GRU(3, reset_after=False, go_backwards=True, activation="relu", use_bias=False),
            layers.Dense(2),
        ]
    )
    model.eval()
    want = model(x).numpy()
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = ranvier.load_model(path)
    loaded.eval()
    np.testing.assert_array_equal(loaded(x).numpy(), want)
    for a, b in zip(model.layers, loaded.layers):
        assert a.get_config() == b.get_config()
    for cls, kwargs in [
        ("SimpleRNN", {"activation": "relu", "go_backwards": True}),
        ("LSTM", {"unit_forget_bias": False, "recurrent_activation": "tanh", "dropout": 0.2}),
        ("GRU", {"reset_after": False, "return_state": True, "seed": 4}),
    ]:
        layer = getattr(layers, cls)(3, **kwargs)
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config


# ---- against Keras ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("the Keras comparison runs on KERAS_BACKEND=torch")
    return keras


def _as_list(y):
    return list(y) if isinstance(y, (list, tuple)) else [y]


def _compare(keras_layer, ranvier_layer, x):
    want = _as_list(keras_layer(x))
    ranvier_layer(x)
    ranvier_layer.set_weights([np.asarray(w) for w in keras_layer.get_weights()])
    ranvier_layer.eval()
    got = _as_list(ranvier_layer(x))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_close(g.numpy(), w.detach().cpu().numpy(), atol=1e-5, rtol=1e-5)


KERAS_CASES = [
    {},
    {"return_sequences": True, "return_state": True, "go_backwards": True},
    {"activation": "relu", "return_sequences": True},
    {"use_bias": False, "return_state": True},
    {"dropout": 0.3, "recurrent_dropout": 0.2},  # inference: no masks
]


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("kwargs", KERAS_CASES + [{"reset_after": False, "return_sequences": True}])
def test_recurrent_layers_match_keras(keras, cls, kwargs, rng):
    if "reset_after" in kwargs and cls != "GRU":
        pytest.skip("reset_after is the GRU's")
    x = rand(rng, 3, 5, 4)
    keras_layer = getattr(keras.layers, cls)(6, **kwargs)
    ranvier_layer = getattr(layers, cls)(6, **kwargs)
    _compare(keras_layer, ranvier_layer, x)
    assert [w.shape for w in ranvier_layer.weights] == [tuple(w.shape) for w in keras_layer.weights]


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("kwargs", [{}, {"return_sequences": True, "return_state": True}])
def test_bidirectional_matches_keras(keras, cls, merge_mode, kwargs, rng):
    x = rand(rng, 3, 5, 4)
    keras_layer = keras.layers.Bidirectional(getattr(keras.layers, cls)(6, **kwargs), merge_mode=merge_mode)
    ranvier_layer = layers.Bidirectional(getattr(layers, cls)(6, **kwargs), merge_mode=merge_mode)
    _compare(keras_layer, ranvier_layer, x)

"""The functional API: Input, layer calls on symbolic tensors, Model(inputs, outputs), merge layers,
per-output losses and metrics, summary, saving, and Keras parity."""

from __future__ import annotations

import os

import numpy as np
import pytest

import ranvier
from ranvier import functional as F
from ranvier import layers
from ranvier.layers.base import ConfigError

RNG = np.random.default_rng(17)


def _two_input_two_output(name_prefix=""):
    num = ranvier.Input((4,), name=f"{name_prefix}num")
    cat = layers.Input((3,), name=f"{name_prefix}cat")
    shared = layers.Dense(5, activation="tanh", name=f"{name_prefix}shared")
    h = layers.Concatenate(name=f"{name_prefix}concat")([shared(num), cat])
    price = layers.Dense(1, name=f"{name_prefix}price")(h)
    kind = layers.Dense(3, activation="softmax", name=f"{name_prefix}kind")(h)
    return ranvier.Model([num, cat], [price, kind], name=f"{name_prefix}two_by_two"), shared


def _data(n=16):
    x = [RNG.standard_normal((n, 4)).astype(np.float32), RNG.standard_normal((n, 3)).astype(np.float32)]
    y = [RNG.standard_normal((n, 1)).astype(np.float32), RNG.integers(0, 3, n)]
    return x, y


def _numpy_forward(model, x):
    """The same two-input model computed by hand with NumPy."""
    w = {layer.name: [np.asarray(v) for v in layer.get_weights()] for layer in model.layers}
    h = np.concatenate([np.tanh(x[0] @ w["shared"][0] + w["shared"][1]), x[1]], axis=1)
    logits = h @ w["kind"][0] + w["kind"][1]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return h @ w["price"][0] + w["price"][1], e / e.sum(axis=1, keepdims=True)


# ---- graph and forward ---------------------------------------------------------------------------------


def test_model_of_input_and_dense_is_functional_and_matches_numpy():
    inp = layers.Input((20,))
    out = layers.Dense(2)(inp)
    model = ranvier.Model(inp, out)
    assert type(model).__name__ == "Functional" and isinstance(model, ranvier.Model)
    assert inp.shape == (None, 20) and out.shape == (None, 2)
    x = RNG.standard_normal((3, 20)).astype(np.float32)
    kernel, bias = model.layers[1].get_weights()
    np.testing.assert_allclose(model(x).numpy(), x @ kernel + bias, rtol=1e-5, atol=1e-6)
    assert model.inputs == [inp] and model.outputs == [out]
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense"]


def test_two_inputs_two_outputs_list_and_dict_inputs_match_numpy():
    model, _ = _two_input_two_output()
    x, _ = _data()
    price, kind = model(x)
    want_price, want_kind = _numpy_forward(model, x)
    np.testing.assert_allclose(price.numpy(), want_price, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(kind.numpy(), want_kind, rtol=1e-4, atol=1e-5)
    by_name = model({"cat": x[1], "num": x[0]})
    np.testing.assert_allclose(by_name[0].numpy(), price.numpy())
    assert model.output_names == ["price", "kind"] and model.input_names == ["num", "cat"]


def test_dict_outputs_are_returned_as_a_dict():
    inp = layers.Input((3,), name="dict_in")
    model = ranvier.Model({"x": inp}, {"a": layers.Dense(2, name="da")(inp), "b": layers.Dense(1, name="db")(inp)})
    out = model({"x": np.ones((2, 3), np.float32)})
    assert set(out) == {"a", "b"} and out["a"].shape == (2, 2) and out["b"].shape == (2, 1)
    assert model.output_names == ["a", "b"]


def test_shared_layer_has_one_weight_set_and_gets_gradient_from_both_uses():
    a, b = layers.Input((3,), name="sa"), layers.Input((3,), name="sb")
    shared = layers.Dense(2, use_bias=False, name="tied")
    model = ranvier.Model([a, b], layers.Add()([shared(a), shared(b)]))
    assert len(model.weights) == 1 and model.count_params() == 6
    xa, xb = RNG.standard_normal((4, 3)).astype(np.float32), RNG.standard_normal((4, 3)).astype(np.float32)
    F.sum(model([xa, xb])).backward()
    # d/dW sum((xa + xb) W) = (xa + xb)^T 1: both uses contribute
    np.testing.assert_allclose(shared.kernel.grad.numpy(), (xa + xb).T @ np.ones((4, 2)), rtol=1e-5, atol=1e-5)


def test_nested_model_is_a_layer_and_keeps_its_weights():
    inner_in = layers.Input((4,), name="inner_in")
    inner = ranvier.Model(inner_in, layers.Dense(3, activation="relu", name="inner_dense")(inner_in), name="inner")
    outer_in = layers.Input((4,), name="outer_in")
    outer = ranvier.Model(outer_in, layers.Dense(1, name="head")(inner(outer_in)), name="outer")
    assert outer.get_layer("inner") is inner and len(outer.weights) == 4
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(outer(x).numpy(), outer.get_layer("head")(inner(x)).numpy(), rtol=1e-6)


def test_sequential_inside_a_functional_model():
    stack = ranvier.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2)], name="stack")
    inp = layers.Input((3,), name="seq_in")
    model = ranvier.Model(inp, stack(inp))
    x = RNG.standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(model(x).numpy(), stack(x).numpy())


def test_lstm_return_state_gives_several_tensors_and_takes_symbolic_initial_state():
    seq = layers.Input((None, 6), name="seq")
    out, h, c = layers.LSTM(8, return_state=True, name="enc")(seq)
    assert out.shape == h.shape == c.shape == (None, 8)
    decoded = layers.LSTM(8, return_sequences=True, name="dec")(seq, initial_state=[h, c])
    assert decoded.shape == (None, None, 8)  # the free time axis stays free
    model = ranvier.Model(seq, decoded)
    x = RNG.standard_normal((2, 5, 6)).astype(np.float32)
    enc, dec = model.get_layer("enc"), model.get_layer("dec")
    _, h0, c0 = enc(x)
    np.testing.assert_allclose(model(x).numpy(), dec(x, initial_state=[h0, c0]).numpy(), rtol=1e-5, atol=1e-6)


def test_free_spatial_axes_stay_free_through_conv_and_pooling():
    img = layers.Input((None, None, 3), name="img")
    h = layers.MaxPooling2D()(layers.Conv2D(4, 3, activation="relu")(img))
    assert h.shape == (None, None, None, 4)
    model = ranvier.Model(img, layers.Dense(2)(layers.GlobalAveragePooling2D()(h)))
    assert model(np.ones((2, 11, 17, 3), np.float32)).shape == (2, 2)
    with pytest.raises(ValueError, match=r"\[Dense 'free_dense'\] cannot take inputs with a free \(None\) axis"):
        layers.Dense(2, name="free_dense")(layers.Flatten()(h))


def test_integer_input_feeds_an_embedding():
    ids = layers.Input((5,), dtype="int32", name="ids")
    model = ranvier.Model(ids, layers.GlobalAveragePooling1D()(layers.Embedding(10, 4)(ids)))
    assert model(np.array([[1, 2, 3, 4, 5]])).shape == (1, 4)


def test_sequential_with_input_still_builds_and_loads(tmp_path):
    model = ranvier.Sequential([layers.Input((20,)), layers.Dense(3)])
    assert model.built and model.count_params() == 63
    path = tmp_path / "seq.safetensors"
    model.save(path)
    x = RNG.standard_normal((2, 20)).astype(np.float32)
    np.testing.assert_allclose(ranvier.load_model(path)(x).numpy(), model(x).numpy())


def test_old_files_naming_input_still_load():
    from ranvier.layers.base import layer_from_config

    seq = layer_from_config(
        {
            "class_name": "Sequential",
            "config": {
                "name": "old",
                "trainable": True,
                "layers": [
                    {"class_name": "Input", "config": {"shape": [6], "name": "old_input"}},
                    {"class_name": "Dense", "config": {"name": "old_dense", "trainable": True, "units": 2}},
                ],
            },
        }
    )
    assert type(seq.layers[0]).__name__ == "InputLayer" and seq(np.ones((1, 6))).shape == (1, 2)


def test_keyword_inputs_outputs_state_dict_and_inside_a_sequential(tmp_path):
    inp = layers.Input((3,), name="kw_in")
    model = ranvier.Model(inputs=inp, outputs=layers.Dense(2, name="kw_dense")(inp), name="kw")
    copy = ranvier.Model(inputs=inp, outputs=layers.Dense(2, name="kw_dense2")(inp))
    copy.load_state_dict({k.replace("kw_dense2", "kw_dense"): v for k, v in model.state_dict().items()}, strict=False)
    wrapper = ranvier.Sequential([model, layers.Dense(1, name="kw_head")], name="kw_wrapper")
    x = RNG.standard_normal((2, 3)).astype(np.float32)
    path = tmp_path / "wrapped.safetensors"
    wrapper(x)
    wrapper.save(path)
    np.testing.assert_allclose(ranvier.load_model(path)(x).numpy(), wrapper(x).numpy())
    assert set(model.state_dict()) and all(k.endswith(("kernel", "bias")) for k in model.state_dict())


def test_the_shape_pass_leaves_batch_statistics_and_modes_alone():
    inp = layers.Input((4,), name="bn_in")
    norm = layers.BatchNormalization(name="bn")
    drop = layers.Dropout(0.5, name="drop")
    model = ranvier.Model(inp, drop(norm(inp)))
    assert norm.training and drop.training
    np.testing.assert_array_equal(norm.get_weights()[2], np.zeros(4))  # moving mean untouched by the zero sample
    model.eval()
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(model(x).numpy(), norm(x).numpy())


def test_get_layer_on_a_subclassed_model():
    class Net(ranvier.Model):
        def __init__(self):
            super().__init__()
            self.body = layers.Dense(3, name="net_body")

        def call(self, x):
            return self.body(x)

    net = Net()
    assert net.get_layer("net_body") is net.body
    with pytest.raises(ValueError, match=r"no layer named 'head'"):
        net.get_layer("head")


# ---- merge layers ---------------------------------------------------------------------------------------


MERGES = [
    (layers.Add, lambda a, b: a + b, lambda a, b, g: (g, g)),
    (layers.Subtract, lambda a, b: a - b, lambda a, b, g: (g, -g)),
    (layers.Multiply, lambda a, b: a * b, lambda a, b, g: (g * b, g * a)),
    (layers.Average, lambda a, b: (a + b) / 2, lambda a, b, g: (g / 2, g / 2)),
    (layers.Maximum, np.maximum, lambda a, b, g: (g * (a > b) + g * (a == b) / 2, g * (b > a) + g * (a == b) / 2)),
    (layers.Minimum, np.minimum, lambda a, b, g: (g * (a < b) + g * (a == b) / 2, g * (b < a) + g * (a == b) / 2)),
]


@pytest.mark.parametrize("cls,forward,backward", MERGES, ids=[m[0].__name__ for m in MERGES])
def test_merge_forward_and_gradient_match_numpy(cls, forward, backward):
    a_np = RNG.standard_normal((3, 5)).astype(np.float32)
    b_np = RNG.standard_normal((3, 5)).astype(np.float32)
    b_np[0, :2] = a_np[0, :2]  # ties
    g = RNG.standard_normal((3, 5)).astype(np.float32)
    a, b = ranvier.tensor(a_np, requires_grad=True), ranvier.tensor(b_np, requires_grad=True)
    y = cls()([a, b])
    np.testing.assert_allclose(y.numpy(), forward(a_np, b_np), rtol=1e-6)
    F.sum(F.mul(y, ranvier.tensor(g))).backward()
    ga, gb = backward(a_np, b_np, g)
    np.testing.assert_allclose(a.grad.numpy(), ga, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(b.grad.numpy(), gb, rtol=1e-6, atol=1e-7)


def test_merges_of_three_and_broadcast():
    xs = [RNG.standard_normal((2, 4)).astype(np.float32) for _ in range(3)]
    np.testing.assert_allclose(layers.add(xs).numpy(), xs[0] + xs[1] + xs[2], rtol=1e-6)
    np.testing.assert_allclose(layers.average(xs).numpy(), (xs[0] + xs[1] + xs[2]) / 3, rtol=1e-6)
    np.testing.assert_allclose(layers.maximum(xs).numpy(), np.maximum(np.maximum(xs[0], xs[1]), xs[2]))
    column = RNG.standard_normal((2, 1)).astype(np.float32)
    np.testing.assert_allclose(layers.multiply([xs[0], column]).numpy(), xs[0] * column, rtol=1e-6)


def test_concatenate_values_gradient_and_axis():
    a_np, b_np = RNG.standard_normal((2, 3, 4)).astype(np.float32), RNG.standard_normal((2, 3, 2)).astype(np.float32)
    a, b = ranvier.tensor(a_np, requires_grad=True), ranvier.tensor(b_np, requires_grad=True)
    y = layers.Concatenate()([a, b])
    np.testing.assert_allclose(y.numpy(), np.concatenate([a_np, b_np], axis=-1))
    g = RNG.standard_normal(y.shape).astype(np.float32)
    F.sum(F.mul(y, ranvier.tensor(g))).backward()
    np.testing.assert_allclose(a.grad.numpy(), g[..., :4])
    np.testing.assert_allclose(b.grad.numpy(), g[..., 4:])
    c = layers.concatenate([a_np, a_np], axis=1)
    assert c.shape == (2, 6, 4)


def test_maximum_nan_propagates_and_gradient_goes_to_nan_side():
    a = ranvier.tensor(np.array([np.nan, 1.0, 2.0], np.float32), requires_grad=True)
    b = ranvier.tensor(np.array([0.0, np.nan, 2.0], np.float32), requires_grad=True)
    y = F.maximum(a, b)
    assert np.isnan(y.numpy()[:2]).all() and y.numpy()[2] == 2.0
    F.sum(y).backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 0.0, 0.5])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 1.0, 0.5])


def test_merge_shape_errors_name_the_layer():
    a, b = layers.Input((3,), name="ma"), layers.Input((4,), name="mb")
    with pytest.raises(ValueError, match=r"\[Add 'bad_add'\] inputs must have the same shape.*\(None, 3\)"):
        layers.Add(name="bad_add")([a, b])
    with pytest.raises(ValueError, match=r"\[Subtract .*exactly 2"):
        layers.Subtract()([a, a, a])
    with pytest.raises(ValueError, match=r"\[Concatenate 'bad_cat'\] inputs must match on every axis but axis 1"):
        layers.Concatenate(axis=1, name="bad_cat")([np.ones((2, 3, 1)), np.ones((2, 4, 2))])
    with pytest.raises(TypeError, match=r"\[Add .*list of tensors"):
        layers.Add()(np.ones((2, 3)))


# ---- bad graphs and inputs ----------------------------------------------------------------------------


def test_model_refuses_non_symbolic_inputs_and_disconnected_outputs():
    with pytest.raises(TypeError, match=r"\[Model\] inputs must be symbolic tensors"):
        ranvier.Model(np.ones((2, 3)), layers.Dense(1)(layers.Input((3,))))
    a, b = layers.Input((3,), name="da"), layers.Input((3,), name="db")
    out = layers.Add()([a, b])
    with pytest.raises(ValueError, match=r"graph disconnected.*Input 'db'"):
        ranvier.Model(a, out)
    with pytest.raises(TypeError, match=r"\[Model\] inputs must come from ranvier.Input"):
        ranvier.Model(layers.Dense(2)(a), layers.Dense(1)(layers.Dense(2)(a)))


def test_calls_with_wrong_inputs_are_refused():
    model, _ = _two_input_two_output("w_")
    x, _ = _data(2)
    with pytest.raises(ValueError, match=r"expects 2 input\(s\) \(w_num, w_cat\), got 1"):
        model(x[0])
    with pytest.raises(ValueError, match=r"missing \['w_cat'\]"):
        model({"w_num": x[0]})
    with pytest.raises(ValueError, match=r"input 'w_cat' expects batches of shape \(None, 3\), got \(2, 5\)"):
        model([x[0], np.ones((2, 5), np.float32)])
    with pytest.raises(TypeError, match=r"concrete array"):
        layers.Concatenate()([model.inputs[0], ranvier.tensor(np.ones((2, 3), np.float32))])


def test_get_layer_by_name_and_index_and_a_clear_error():
    model, shared = _two_input_two_output("g_")
    assert model.get_layer("g_shared") is shared and model.get_layer(index=0).name == "g_num"
    with pytest.raises(ValueError, match=r"no layer named 'nope'; the model's layers: 'g_num'"):
        model.get_layer("nope")
    seq = ranvier.Sequential([layers.Dense(2, input_shape=(3,), name="first_dense")])
    assert seq.get_layer("first_dense") is seq.layers[0] and seq.get_layer(index=-1) is seq.layers[0]
    with pytest.raises(ValueError, match=r"index must be an integer"):
        seq.get_layer(index=3)


def test_sequential_pop_removes_the_last_layer():
    seq = ranvier.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    last = seq.layers[1]
    assert seq.pop() is last and len(seq.layers) == 1
    assert seq(np.ones((1, 3), np.float32)).shape == (1, 4)
    seq.pop()
    with pytest.raises(ValueError, match=r"no layers to remove"):
        seq.pop()


# ---- losses, training ------------------------------------------------------------------------------------


def _mse(y, p):
    return float(np.mean((y - p) ** 2))


def _sparse_ce(y, p):
    return float(-np.mean(np.log(p[np.arange(len(y)), y])))


def test_per_output_loss_is_the_weighted_sum_and_logs_use_keras_names():
    model, _ = _two_input_two_output("l_")
    x, y = _data()
    model.compile(
        "sgd",
        loss=["mse", "sparse_categorical_crossentropy"],
        loss_weights=[2.0, 0.5],
        metrics=[["mae"], ["accuracy"]],
    )
    price, kind = (t.numpy() for t in model(x))
    want_price, want_kind = _mse(y[0], price), _sparse_ce(y[1], kind)
    loss, _ = model.compute_loss(x, y)
    assert loss.item() == pytest.approx(2.0 * want_price + 0.5 * want_kind, rel=1e-5)
    logs = model.test_step(x, y)
    assert set(logs) == {"loss", "l_price_loss", "l_kind_loss", "l_price_mae", "l_kind_accuracy"}
    assert logs["l_price_loss"] == pytest.approx(want_price, rel=1e-5)
    assert logs["l_kind_loss"] == pytest.approx(want_kind, rel=1e-5)
    assert logs["l_price_mae"] == pytest.approx(float(np.mean(np.abs(y[0] - price))), rel=1e-5)
    assert logs["l_kind_accuracy"] == pytest.approx(float(np.mean(kind.argmax(1) == y[1])))


def test_dict_loss_leaves_unnamed_outputs_without_loss_and_dict_targets():
    model, _ = _two_input_two_output("d_")
    x, y = _data()
    model.compile("sgd", loss={"d_price": "mse"}, loss_weights={"d_price": 3.0}, metrics={"d_kind": ["accuracy"]})
    loss, _ = model.compute_loss(x, {"d_price": y[0]})
    assert loss.item() == pytest.approx(3.0 * _mse(y[0], model(x)[0].numpy()), rel=1e-5)
    with pytest.raises(ValueError, match=r"loss names \['nope'\], which are not outputs"):
        model.compile("sgd", loss={"nope": "mse"})
    with pytest.raises(ValueError, match=r"one entry per output \(2"):
        model.compile("sgd", loss=["mse"])
    model.compile("sgd")
    with pytest.raises(RuntimeError, match=r"call compile\(optimizer=..., loss=...\)"):
        model._bind_optimizer()
    model.compile("sgd", loss={"d_price": "mse", "d_kind": "sparse_categorical_crossentropy"})
    with pytest.raises(ValueError, match=r"no target for output 'd_kind'"):
        model.compute_loss(x, {"d_price": y[0]})


def test_train_step_moves_every_branch_and_lowers_the_loss():
    model, shared = _two_input_two_output("t_")
    x, y = _data(64)
    model.compile("adam", loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[1.0, 1.0])
    model._bind_optimizer()  # what fit does before its first train_step
    before = [w.numpy().copy() for w in model.weights]
    first = model.train_step(x, y)["loss"]
    for _ in range(60):
        last = model.train_step(x, y)["loss"]
    assert last < first
    assert all(not np.array_equal(b, w.numpy()) for b, w in zip(before, model.weights))


def test_pytorch_style_loop_on_two_inputs():
    model, _ = _two_input_two_output("p_")
    x, _ = _data(32)
    target = x[0][:, :1] - x[1][:, 1:2]  # a price both inputs explain
    opt = ranvier.optimizers.Adam(model.parameters(), learning_rate=0.01)
    mse = ranvier.losses.MeanSquaredError()
    losses = []
    for _ in range(100):
        price, _ = model(x)
        loss = mse(target, price)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]


def test_fit_on_a_single_input_single_output_model_uses_the_fused_loss():
    inp = layers.Input((2,), name="fit_in")
    out = layers.Dense(2, activation="softmax", name="fit_out")(layers.Dense(16, activation="relu")(inp))
    model = ranvier.Model(inp, out)
    x = RNG.standard_normal((256, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    model.compile(ranvier.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model._fused_loss is not None
    probs = model(x[:32]).numpy()
    fused, _ = model.compute_loss(x[:32], y[:32])
    assert fused.item() == pytest.approx(_sparse_ce(y[:32], probs), rel=1e-4)
    history = model.fit(x, y, batch_size=32, epochs=30, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] > 0.9
    assert model.predict(x[:5]).shape == (5, 2)


def test_one_output_given_as_a_list_trains_with_fit():
    inp = layers.Input((3,), name="lo_in")
    model = ranvier.Model([inp], [layers.Dense(2, activation="softmax", name="lo_out")(inp)])
    x = RNG.standard_normal((64, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    assert not isinstance(model(x), list)  # as Keras 3 (checked with 3.15): outputs=[out] gives out
    assert model.predict(x, verbose=0).shape == (64, 2)
    model.compile(ranvier.optimizers.Adam(0.05), loss=["sparse_categorical_crossentropy"], loss_weights={"lo_out": 2.0})
    loss, preds = model.compute_loss(x, [y])
    assert loss.item() == pytest.approx(2.0 * _sparse_ce(y, preds.numpy()), rel=1e-4)
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# ---- summary and saving ------------------------------------------------------------------------------------


def test_summary_lists_layers_shapes_params_and_connections():
    model, _ = _two_input_two_output("s_")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text and 'Model: "s_two_by_two"' in text
    row = next(line for line in lines if line.startswith("s_concat (Concatenate)"))
    assert "(None, 8)" in row and "s_shared[0][0], s_cat[0][0]" in row
    assert next(line for line in lines if line.startswith("s_shared (Dense)")).split()[4] == "25"
    assert next(line for line in lines if line.startswith("s_num (InputLayer)")).rstrip().endswith("-")
    assert "Total params: 61" in text


def test_save_and_load_round_trip_with_compile_state(tmp_path):
    model, _ = _two_input_two_output("r_")
    x, y = _data()
    model.compile(
        "adam", loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[1.0, 0.5], metrics=[["mae"], []]
    )
    model._bind_optimizer()
    model.train_step(x, y)
    path = tmp_path / "functional.safetensors"
    model.save(path)
    loaded = ranvier.load_model(path)
    assert type(loaded).__name__ == "Functional" and [la.name for la in loaded.layers] == [
        la.name for la in model.layers
    ]
    for got, want in zip(loaded(x), model(x)):
        np.testing.assert_allclose(got.numpy(), want.numpy())
    assert loaded._output_losses[1][2] == 0.5 and loaded.output_names == ["r_price", "r_kind"]
    loaded._bind_optimizer()
    model._bind_optimizer()
    model.reset_metrics()  # stateful metrics: the loaded model's start at zero
    assert loaded.train_step(x, y) == pytest.approx(model.train_step(x, y), rel=1e-5)


def test_nested_and_shared_round_trip(tmp_path):
    inner_in = layers.Input((4,), name="n_inner_in")
    inner = ranvier.Model(inner_in, layers.Dense(3, name="n_inner_dense")(inner_in), name="n_inner")
    a, b = layers.Input((4,), name="n_a"), layers.Input((4,), name="n_b")
    model = ranvier.Model([a, b], layers.Subtract()([inner(a), inner(b)]), name="n_outer")
    path = tmp_path / "nested.safetensors"
    model.save(path)
    loaded = ranvier.load_model(path)
    x = [RNG.standard_normal((2, 4)).astype(np.float32) for _ in range(2)]
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy())
    assert len(loaded.weights) == 2


def test_round_trip_of_call_kwargs_several_outputs_and_dict_structures(tmp_path):
    seq = layers.Input((None, 6), name="rt_seq")
    out, h, c = layers.LSTM(8, return_state=True, name="rt_enc")(seq)
    decoded = layers.LSTM(8, name="rt_dec")(seq, initial_state=[h, c])
    model = ranvier.Model({"tokens": seq}, {"summary": out, "decoded": decoded}, name="rt")
    path = tmp_path / "kwargs.safetensors"
    model.save(path)
    loaded = ranvier.load_model(path)
    x = {"tokens": RNG.standard_normal((2, 5, 6)).astype(np.float32)}
    got, want = loaded(x), model(x)
    assert set(got) == {"summary", "decoded"} and loaded.input_names == ["tokens"]
    for key in want:
        np.testing.assert_allclose(got[key].numpy(), want[key].numpy(), rtol=1e-6)


def test_input_arguments_are_checked():
    with pytest.raises(TypeError, match=r"\[InputLayer\] shape must be a tuple"):
        layers.Input(5)
    with pytest.raises(TypeError, match=r"\[InputLayer\] dtype must be a bool, integer or float dtype"):
        layers.Input((3,), dtype="str")
    with pytest.raises(ValueError, match=r"\[InputLayer\] give shape or batch_shape"):
        layers.InputLayer()
    assert layers.Input(None, batch_shape=(None, 7)).shape == (None, 7)


def _config(model):
    return {"class_name": "Functional", "config": model.get_config()}


def test_loader_refuses_unknown_layers_cycles_and_bad_references():
    from ranvier.layers.base import layer_from_config

    inp = layers.Input((3,), name="c_in")
    h = layers.Dense(2, name="c_a")(inp)
    model = ranvier.Model(inp, layers.Dense(2, name="c_b")(h))
    spec = _config(model)
    assert layer_from_config(spec)(np.ones((1, 3))).shape == (1, 2)

    entries = spec["config"]["layers"]
    cyclic = {**spec, "config": {**spec["config"], "layers": [dict(e) for e in entries]}}
    # c_a reads c_b's output and c_b reads c_a's: no node can be made first
    cyclic["config"]["layers"][1]["inbound_nodes"] = [
        {"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["c_b", 0, 0]}}], "kwargs": {}}
    ]
    with pytest.raises(ConfigError, match=r"reference nodes that never exist \(a cycle"):
        layer_from_config(cyclic)

    unknown = {**spec, "config": {**spec["config"], "layers": [dict(e) for e in entries]}}
    unknown["config"]["layers"][2]["inbound_nodes"] = [
        {"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["ghost", 0, 0]}}], "kwargs": {}}
    ]
    with pytest.raises(ConfigError, match=r"references layer 'ghost', which is not in the model"):
        layer_from_config(unknown)

    evil = {**spec, "config": {**spec["config"], "layers": [dict(e) for e in entries]}}
    evil["config"]["layers"][1] = {**entries[1], "class_name": "os.system"}
    with pytest.raises(ConfigError, match=r"unknown layer class 'os.system'"):
        layer_from_config(evil)

    out_of_range = {**spec, "config": {**spec["config"], "output_layers": [["c_b", 0, 5]]}}
    with pytest.raises(ConfigError, match=r"has 1 output"):
        layer_from_config(out_of_range)


def test_loader_keeps_the_parameter_budget(tmp_path):
    model, _ = _two_input_two_output("b_")
    path = tmp_path / "budget.safetensors"
    model.save(path)
    with pytest.raises(ValueError, match=r"more than max_params=10"):
        ranvier.load_model(path, max_params=10)


# ---- Keras parity ---------------------------------------------------------------------------------------


def test_same_functional_model_and_weights_as_keras_give_the_same_predictions():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("the comparison runs with KERAS_BACKEND=torch")

    def build_plain(lib, lay):
        num, cat = lib.Input((4,), name="num"), lib.Input((3,), name="cat")
        shared = lay.Dense(5, activation="tanh", name="shared")
        left, right = shared(num), shared(lay.Dense(4, name="proj")(cat))
        h = lay.Concatenate(name="concat")([left, right, lay.Maximum(name="max")([left, right])])
        h = lay.Add(name="add")([lay.Dense(6, activation="relu", name="d6")(h), lay.Dense(6, name="d6b")(h)])
        h = lay.Average(name="avg")([h, lay.Subtract(name="sub")([h, lay.Multiply(name="mul")([h, h])])])
        return lib.Model(
            [num, cat], [lay.Dense(1, name="price")(h), lay.Dense(3, activation="softmax", name="kind")(h)]
        )

    ours, theirs = build_plain(ranvier, layers), build_plain(keras, keras.layers)
    # the same layer order as Keras (depth from the outputs, then first visit), so the weight lists line up
    assert [la.name for la in ours.layers] == [la.name for la in theirs.layers]
    theirs.set_weights(ours.get_weights())
    x, _ = _data(8)
    for got, want in zip(ours(x), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(got.numpy(), np.asarray(want), rtol=1e-4, atol=1e-5)


# ---- the Keras loop on several inputs and outputs -------------------------------------------------------
def _compiled_two_by_two(prefix):
    model, _ = _two_input_two_output(prefix)
    model.compile(
        "adam",
        loss=["mse", "sparse_categorical_crossentropy"],
        loss_weights=[1.0, 0.5],
        metrics=[["mae"], ["accuracy"]],
    )
    return model


def test_fit_evaluate_predict_take_lists_and_dicts_of_arrays():
    model = _compiled_two_by_two("f_")
    x, y = _data(40)
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_split=0.25)
    names = ["loss", "f_price_loss", "f_kind_loss", "f_price_mae", "f_kind_accuracy"]
    assert list(history.history) == names + [f"val_{n}" for n in names]
    # the logged epoch metrics are over the whole epoch: evaluate gives them again for the weights it ends with
    result = model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
    price, kind = model.predict(x, batch_size=9, verbose=0)
    assert price.shape == (40, 1) and kind.shape == (40, 3)
    assert result["f_price_mae"] == pytest.approx(float(np.mean(np.abs(price - y[0]))), rel=1e-5)
    assert result["f_kind_accuracy"] == pytest.approx(float(np.mean(kind.argmax(1) == y[1])))
    want = _mse(y[0], price) + 0.5 * _sparse_ce(y[1], kind)
    assert result["loss"] == pytest.approx(want, rel=1e-4)
    by_name = model.evaluate(
        {"f_num": x[0], "f_cat": x[1]}, {"f_price": y[0], "f_kind": y[1]}, verbose=0, return_dict=True
    )
    assert by_name == pytest.approx(result, rel=1e-5)


def test_fit_with_sample_weight_on_several_outputs_weighs_every_output():
    model = _compiled_two_by_two("")  # _numpy_forward reads the unprefixed layer names
    x, y = _data(12)
    weights = np.linspace(0.0, 2.0, 12).astype(np.float32)
    got = model.evaluate(x, y, sample_weight=weights, batch_size=12, verbose=0, return_dict=True)
    price, kind = _numpy_forward(model, x)
    per_price = np.mean((price - y[0]) ** 2, axis=1) * weights
    per_kind = -np.log(kind[np.arange(12), y[1]]) * weights
    assert got["price_loss"] == pytest.approx(float(per_price.mean()), rel=1e-4)  # Keras: / batch size
    assert got["kind_loss"] == pytest.approx(float(per_kind.mean()), rel=1e-4)


def test_fit_trains_a_two_input_model_from_a_generator():
    model = _compiled_two_by_two("g_")
    x, y = _data(32)

    def batches():
        for start in range(0, 32, 8):
            yield [a[start : start + 8] for a in x], [a[start : start + 8] for a in y]

    before = model.evaluate(x, y, verbose=0)
    model.fit(batches(), epochs=1, verbose=0)
    assert model.evaluate(x, y, verbose=0)[0] < before[0]


def test_regularization_penalties_join_a_functional_models_loss_and_evaluate():
    inp = ranvier.Input((4,))
    out = layers.Dense(2, kernel_regularizer=ranvier.regularizers.L2(0.5), name="penalised")(inp)
    model = ranvier.Model(inp, out)
    model.compile("sgd", loss="mse")
    x, y = RNG.standard_normal((6, 4)).astype(np.float32), RNG.standard_normal((6, 2)).astype(np.float32)
    kernel = model.get_layer("penalised").kernel.numpy()
    penalty = 0.5 * float(np.sum(kernel.astype(np.float64) ** 2))
    plain = _mse(y, model.predict(x, verbose=0))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(plain + penalty, rel=1e-5)

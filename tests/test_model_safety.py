"""Models never train silently wrong: a non-finite loss is reported, frozen layers stay frozen,
inputs of any numeric dtype are converted once at the model's boundary, and weights are
created on the model's device."""

import warnings

import numpy as np
import pytest

import ranvier
from ranvier import callbacks, losses, optimizers
from ranvier.layers import BatchNormalization, Dense, Embedding, Flatten, GlobalAveragePooling1D, TransformerEncoder


def regression_model(seed=0):
    ranvier.utils.set_seed(seed)
    model = ranvier.Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05), loss="mse")
    return model


def regression_data(n=40, nan_at=None, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True).astype(np.float32)
    if nan_at is not None:
        y[nan_at] = np.nan
    return x, y


class BatchCounter(callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.batches = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(batch)


# ---- a non-finite loss -------------------------------------------------------------------


def test_terminate_on_nan_stops_at_the_batch_whose_loss_is_nan(capsys):
    x, y = regression_data(nan_at=25)  # batch 3 of 4 (batch_size 10)
    counter = BatchCounter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = regression_model().fit(
            x, y, batch_size=10, epochs=3, shuffle=False, verbose=0, callbacks=[callbacks.TerminateOnNaN(), counter]
        )
    assert counter.batches == [0, 1, 2]
    assert len(history.history["loss"]) == 1 and np.isnan(history.history["loss"][0])
    assert "Epoch 1, batch 3: invalid loss nan, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_also_stops_on_an_infinite_loss(capsys):
    x, y = regression_data()
    x[12] = np.float32(3e38)  # finite input, infinite squared error
    counter = BatchCounter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        regression_model().fit(
            x, y, batch_size=10, epochs=2, shuffle=False, verbose=0, callbacks=[callbacks.TerminateOnNaN(), counter]
        )
    assert counter.batches == [0, 1]
    assert "batch 2: invalid loss inf" in capsys.readouterr().out


def test_fit_warns_once_per_epoch_naming_the_epoch_and_batch_and_keeps_going():
    x, y = regression_data(nan_at=25)
    with pytest.warns(RuntimeWarning) as caught:
        history = regression_model().fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 2, messages
    assert messages[0].startswith("[fit] the loss is nan at epoch 1/2, batch 3/4")
    assert "TerminateOnNaN" in messages[0]
    assert messages[1].startswith("[fit] the loss is nan at epoch 2/2, batch 1/4")
    assert len(history.history["loss"]) == 2  # Keras keeps going without TerminateOnNaN


def test_fit_with_a_finite_loss_does_not_warn():
    x, y = regression_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        regression_model().fit(x, y, batch_size=10, epochs=2, verbose=0)


def test_evaluate_warns_naming_the_batch():
    x, y = regression_data(nan_at=15)
    with pytest.warns(RuntimeWarning, match=r"\[evaluate\] the loss is nan at batch 2/4"):
        loss = regression_model().evaluate(x, y, batch_size=10, verbose=0)
    assert np.isnan(loss)


# ---- trainable = False -------------------------------------------------------------------


def fit_a_little(model, epochs=2):
    x, y = regression_data()
    model.fit(x, y, batch_size=10, epochs=epochs, verbose=0)


def test_fit_leaves_a_frozen_layer_alone():
    model = regression_model()
    frozen, trained = model.layers
    frozen.trainable = False
    model.compile(optimizer="adam", loss="mse")
    before = frozen.get_weights(), trained.get_weights()
    fit_a_little(model)
    for a, b in zip(before[0], frozen.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(before[1], trained.get_weights()))


def test_a_layer_frozen_after_compile_and_fit_stays_frozen():
    model = regression_model()
    fit_a_little(model, epochs=1)
    model.layers[0].trainable = False
    before = model.layers[0].get_weights()
    fit_a_little(model)
    for a, b in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)


def test_freezing_a_model_freezes_its_sublayers():
    ranvier.utils.set_seed(0)
    base = ranvier.Sequential([Dense(5, activation="relu", input_shape=(3,)), Dense(4)])
    model = ranvier.Sequential([base, Dense(1)])
    model.build_for((3,))
    base.trainable = False
    assert [layer.trainable for layer in base.layers] == [False, False]  # as Keras 3
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 4
    model.compile(optimizer="sgd", loss="mse")
    before = base.get_weights()
    fit_a_little(model)
    for a, b in zip(before, base.get_weights()):
        np.testing.assert_array_equal(a, b)
    base.trainable = True
    assert len(model.trainable_weights) == 6


def test_sublayers_added_to_a_frozen_layer_are_frozen():
    encoder = TransformerEncoder(intermediate_dim=8, num_heads=2, trainable=False)  # sublayers made in build
    encoder(np.ones((2, 3, 4), np.float32))
    assert encoder.weights and encoder.trainable_weights == []
    assert all(not w.requires_grad for w in encoder.weights)


def test_pytorch_style_optimizer_skips_a_layer_frozen_after_it_was_made():
    model = regression_model()
    opt = optimizers.SGD(model.parameters(), lr=0.1)
    model.layers[0].trainable = False
    before = model.layers[0].get_weights()
    x, y = regression_data()
    loss = losses.MeanSquaredError()(y, model(x))
    opt.zero_grad()
    loss.backward()
    opt.step()
    for a, b in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)


def test_fit_of_a_fully_frozen_model_changes_nothing():
    model = regression_model()
    model.trainable = False
    before = model.get_weights()
    fit_a_little(model)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_trainable_and_non_trainable_weights_as_keras():
    ranvier.utils.set_seed(0)
    model = ranvier.Sequential([Dense(4, input_shape=(3,)), BatchNormalization(), Dense(2)])
    dense, norm, head = model.layers
    assert [id(w) for w in norm.non_trainable_weights] == [id(norm.moving_mean), id(norm.moving_variance)]
    assert [id(w) for w in norm.trainable_weights] == [id(norm.gamma), id(norm.beta)]
    dense.trainable = False
    assert dense.trainable_weights == [] and len(dense.non_trainable_weights) == 2
    ids = {id(w) for w in model.trainable_weights}
    assert ids == {id(norm.gamma), id(norm.beta), id(head.kernel), id(head.bias)}
    assert {id(w) for w in model.non_trainable_weights} == {id(w) for w in model.weights} - ids


def test_summary_counts_frozen_and_non_trainable_params():
    model = ranvier.Sequential([Dense(4, input_shape=(3,)), BatchNormalization(), Dense(2)])
    model.layers[0].trainable = False
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: 42" in lines  # 16 + 4 * 4 + 10
    assert "Trainable params: 18" in lines  # gamma, beta, the last Dense
    assert "Non-trainable params: 24" in lines  # the frozen Dense, the moving statistics


def test_saving_keeps_the_trainable_flag(tmp_path):
    model = ranvier.Sequential([Dense(4, input_shape=(3,)), Dense(2)])
    model.layers[0].trainable = False
    model.save(tmp_path / "m.safetensors")
    loaded = ranvier.load_model(tmp_path / "m.safetensors")
    assert [layer.trainable for layer in loaded.layers] == [False, True]
    assert len(loaded.trainable_weights) == 2
    model.trainable = False
    model.save(tmp_path / "frozen.safetensors")
    loaded = ranvier.load_model(tmp_path / "frozen.safetensors")
    assert loaded.trainable is False and loaded.trainable_weights == []


def test_a_frozen_batch_norm_runs_in_inference_mode():
    norm = BatchNormalization()
    x = np.random.default_rng(0).normal(5.0, 2.0, (16, 3)).astype(np.float32)
    norm(x)  # built and trained one step: the moving statistics moved
    norm.trainable = False
    mean, var = norm.moving_mean.numpy().copy(), norm.moving_variance.numpy().copy()
    assert norm.training
    y = norm(x).numpy()
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + norm.epsilon), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(norm.moving_mean.numpy(), mean)
    np.testing.assert_array_equal(norm.moving_variance.numpy(), var)


def test_trainable_must_be_a_bool():
    with pytest.raises(TypeError, match=r"\[Dense 'dense.*'\] trainable must be True or False, got 'False'"):
        Dense(2).trainable = "False"


# ---- inputs converted at the model's boundary ------------------------------------------------


def image_model():
    ranvier.utils.set_seed(3)
    model = ranvier.Sequential([Flatten(input_shape=(4, 4, 1)), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def test_fit_takes_uint8_images_as_their_float32_values():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (20, 4, 4, 1)).astype(np.uint8)
    y = rng.integers(0, 3, 20)
    a, b = image_model(), image_model()
    a.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0)
    b.fit(x.astype(np.float32), y, batch_size=5, epochs=2, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.evaluate(x, y, verbose=0) == b.evaluate(x.astype(np.float32), y, verbose=0)


@pytest.mark.parametrize("dtype", [np.bool_, np.int32, np.int64, np.uint16, np.float16, np.float64])
def test_predict_and_call_take_any_numeric_dtype(dtype):
    model = image_model()
    x = np.random.default_rng(1).integers(0, 2, (6, 4, 4, 1)).astype(dtype)
    expected = model.predict(x.astype(np.float32))
    np.testing.assert_array_equal(model.predict(x), expected)
    np.testing.assert_array_equal(model(x).numpy(), expected)


def test_non_numeric_inputs_are_refused():
    model = image_model()
    with pytest.raises(TypeError, match=r"\[predict\] x must hold numbers .*got complex64"):
        model.predict(np.ones((2, 4, 4, 1), np.complex64))
    with pytest.raises(TypeError, match=r"\[fit\] x must hold numbers .*got <U1"):
        model.fit(np.full((2, 4, 4, 1), "a"), np.zeros(2, np.int64), verbose=0)


def test_ids_for_an_embedding_stay_integers(monkeypatch):
    seen = []
    call = Embedding.call
    monkeypatch.setattr(Embedding, "call", lambda self, ids: seen.append(ids.dtype) or call(self, ids))
    model = ranvier.Sequential([Embedding(10, 4), GlobalAveragePooling1D(), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.arange(12, dtype=np.int32).reshape(4, 3) % 10, np.ones(4, np.float32), verbose=0)
    assert seen and all(d.kind in "iu" for d in seen)


def test_ops_stay_strict():
    with pytest.raises(TypeError, match=r"\[linear\] x must be"):
        ranvier.ops.linear(np.ones((2, 3), np.uint8), np.ones((3, 2), np.float32))


# ---- weights created on the model's device ---------------------------------------------------


def record_weight_devices(monkeypatch):
    """A fake device: arrays stay NumPy, but every weight creation records the device asked for."""
    import ranvier.layers.base as base
    import ranvier.models as models

    devices = []

    def fake_to_device(x, device, op="to_device"):
        if op.endswith(".add_weight"):
            devices.append(device)
        return np.asarray(x)

    monkeypatch.setattr(base, "to_device", fake_to_device)
    monkeypatch.setattr(models, "to_device", lambda x, device, op="to_device": np.asarray(x))
    return devices


def test_fit_on_cuda_creates_the_weights_of_an_unbuilt_model_there(monkeypatch):
    devices = record_weight_devices(monkeypatch)
    model = ranvier.Sequential([Dense(4, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = regression_data()
    model.fit(x, y, epochs=1, verbose=0, device="cuda")
    assert len(model.weights) == 4 and devices == ["cuda"] * 4
    assert all(layer.device == "cuda" for layer in model.layers)


def test_sublayers_made_later_take_their_parents_device(monkeypatch):
    devices = record_weight_devices(monkeypatch)
    model = ranvier.Sequential([TransformerEncoder(intermediate_dim=8, num_heads=2)]).to("cuda")
    model.add(Dense(2))
    model(np.ones((2, 3, 4), np.float32))
    assert len(devices) == len(model.weights) > 10 and set(devices) == {"cuda"}


def test_fit_on_an_unbuilt_model_on_each_device(backend):
    model = ranvier.Sequential([Dense(4, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = regression_data()
    history = model.fit(x.astype(np.float64), y, epochs=2, verbose=0, device=backend.name)
    assert all(w.device == backend.name for w in model.weights)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(x.astype(np.uint8)).shape == (40, 1)

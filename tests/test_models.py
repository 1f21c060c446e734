"""The classic models build, learn, save and load; fit and a PyTorch-style loop agree."""

import io
import sys

import numpy as np
import pytest

import ranvier
from ranvier import callbacks, losses, optimizers
from ranvier.layers import (
    LSTM,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    MaxPooling2D,
    PositionalEncoding,
    TransformerEncoder,
)


def blobs(n, size, channels, classes, seed=0):
    """Images whose class is the quadrant holding a bright square: learnable by a CNN in a few steps."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.random((n, size, size, channels)).astype(np.float32) * 0.1
    half = size // 2
    for i, c in enumerate(y):
        r, col = (c // 2) % 2 * half, c % 2 * half
        x[i, r : r + half, col : col + half] += 1.0
    return x, y


def sequences(n, length, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, length, 2)).astype(np.float32)
    return x, (x[:, :, 0].sum(axis=1) > 0).astype(np.float32)


def token_sequences(n, length, vocab, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, vocab, (n, length))
    return x, (np.sum(x == 1, axis=1) > 0).astype(np.int64)  # does token 1 occur?


def loss_falls(model, x, y, epochs=3, batch_size=16):
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=False)
    first, last = history.history["loss"][0], history.history["loss"][-1]
    assert last < first, history.history["loss"]
    return history


def test_xor_mlp_learns_all_four_points():
    ranvier.utils.set_seed(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([[0], [1], [1], [0]], np.float32)
    model = ranvier.Sequential([Dense(8, activation="sigmoid", input_shape=(2,)), Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.SGD(learning_rate=2.0), loss="mse", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=4, epochs=1500, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert np.array_equal(model.predict(x) > 0.5, y > 0.5)
    assert history.history["accuracy"][-1] == 1.0


def mnist_cnn():
    return ranvier.Sequential(
        [
            Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            MaxPooling2D((2, 2)),
            Conv2D(64, (3, 3), activation="relu"),
            MaxPooling2D((2, 2)),
            Flatten(),
            Dense(128, activation="relu"),
            Dense(10, activation="softmax"),
        ]
    )


def test_mnist_style_cnn():
    ranvier.utils.set_seed(1)
    model = mnist_cnn()
    model.compile(
        optimizer=optimizers.SGD(learning_rate=0.01, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    assert model._fused_loss is not None  # softmax + cross-entropy through the fused kernel
    assert model.count_params() == 32 * 9 + 32 + 64 * 32 * 9 + 64 + 1600 * 128 + 128 + 1290
    x, y = blobs(48, 28, 1, 4)
    loss_falls(model, x, y, epochs=3)


def test_cifar_style_cnn_with_adam():
    ranvier.utils.set_seed(2)
    model = ranvier.Sequential(
        [
            Conv2D(32, 3, padding="same", activation="relu", input_shape=(32, 32, 3)),
            MaxPooling2D(),
            Conv2D(64, 3, padding="same", activation="relu"),
            MaxPooling2D(),
            Conv2D(64, 3, padding="same", activation="relu"),
            MaxPooling2D(),
            Flatten(),
            Dense(128, activation="relu"),
            Dropout(0.2),
            Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = blobs(32, 32, 3, 4)
    loss_falls(model, x, ranvier.utils.to_categorical(y, 10), epochs=3)


def test_lstm_classifier():
    ranvier.utils.set_seed(3)
    model = ranvier.Sequential(
        [
            LSTM(16, return_sequences=True, input_shape=(None, 2)),
            LSTM(16),
            Dense(8, activation="relu"),
            Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy", metrics=["accuracy"])
    x, y = sequences(64, 7)
    loss_falls(model, x, y, epochs=4)


def test_transformer_encoder_classifier():
    ranvier.utils.set_seed(4)
    model = ranvier.Sequential(
        [
            Embedding(12, 16, input_shape=(10,)),
            PositionalEncoding(),
            TransformerEncoder(num_heads=2, intermediate_dim=32),
            GlobalAveragePooling1D(),
            Dense(2, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=optimizers.Adam(learning_rate=3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    x, y = token_sequences(64, 10, 12)
    loss_falls(model, x, y, epochs=4)


@pytest.mark.parametrize("builder", ["mlp", "cnn", "lstm", "transformer"])
def test_save_and_load_give_identical_predictions(tmp_path, builder):
    ranvier.utils.set_seed(5)
    if builder == "mlp":
        model, x = ranvier.Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(2)]), np.ones((2, 3))
    elif builder == "cnn":
        model, x = mnist_cnn(), blobs(2, 28, 1, 4)[0]
    elif builder == "lstm":
        model, x = ranvier.Sequential([LSTM(5, input_shape=(None, 2)), Dense(1)]), sequences(3, 4)[0]
    else:
        model = ranvier.Sequential(
            [
                Embedding(12, 8, input_shape=(6,)),
                PositionalEncoding(),
                TransformerEncoder(2, 16),
                GlobalAveragePooling1D(),
                Dense(2),
            ]
        )
        x = token_sequences(3, 6, 12)[0]
    model.compile(optimizer="adam", loss="mse")
    before = model.predict(x)
    model.save(tmp_path / "model.safetensors")
    loaded = ranvier.load_model(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(loaded.predict(x), before)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    model.save_weights(tmp_path / "w.safetensors")
    ranvier.utils.set_seed(99)
    fresh = loaded  # same architecture, then overwrite its weights with other values and load back
    fresh.set_weights([w * 0 for w in fresh.get_weights()])
    fresh.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(fresh.predict(x), before)


def test_loading_weights_of_the_wrong_shape_names_the_layer(tmp_path):
    a = ranvier.Sequential([Dense(4, input_shape=(3,), name="hidden"), Dense(2, name="out")])
    a.build_for((3,))
    a.save_weights(tmp_path / "a.safetensors")
    b = ranvier.Sequential([Dense(5, input_shape=(3,), name="hidden"), Dense(2, name="out")])
    b.build_for((3,))
    with pytest.raises(
        ValueError, match=r"layer '.*hidden': weight '.*hidden/kernel' has shape \(3, 5\), the file has \(3, 4\)"
    ):
        b.load_weights(tmp_path / "a.safetensors")


def test_fit_and_pytorch_style_loop_give_the_same_weights():
    x, y = blobs(40, 8, 1, 4, seed=6)

    def make():
        ranvier.utils.set_seed(7)
        return ranvier.Sequential(
            [Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)), Flatten(), Dense(4, activation="softmax")]
        )

    keras_style = make()
    keras_style.compile(
        optimizer=optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="sparse_categorical_crossentropy"
    )
    keras_style.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)

    torch_style = make()
    opt = optimizers.SGD(torch_style.parameters(), lr=0.05, momentum=0.9)
    loss_fn = losses.SparseCategoricalCrossentropy()
    for _ in range(2):
        for start in range(0, 40, 10):
            loss = loss_fn(y[start : start + 10], torch_style(x[start : start + 10]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    for a, b in zip(keras_style.get_weights(), torch_style.get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def small_model():
    ranvier.utils.set_seed(8)
    model = ranvier.Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model


def test_fit_progress_on_a_terminal(monkeypatch):
    out = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", out)
    small_model().fit(np.ones((50, 3)), np.ones((50, 1)), batch_size=10, epochs=2, validation_split=0.2)
    text = out.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "\r4/4 [==============================]" in text and "ms/step" in text or "us/step" in text
    assert "ETA:" in text and " - loss: " in text and " - val_loss: " in text and " - mae: " in text


def test_fit_progress_without_a_terminal(capsys):
    small_model().fit(np.ones((50, 3)), np.ones((50, 1)), batch_size=10, epochs=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("5/5 - ") and "step - loss: " in lines[1] and "\r" not in lines[1]
    assert len(lines) == 4


def test_fit_history_validation_and_callbacks(tmp_path):
    model = small_model()
    events = []

    class Recorder(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            events.append((epoch, sorted(logs)))

    rng = np.random.default_rng(0)
    x = rng.random((60, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    history = model.fit(
        x,
        y,
        epochs=3,
        batch_size=8,
        verbose=0,
        validation_data=(x[:10], y[:10]),
        callbacks=[
            Recorder(),
            callbacks.LearningRateScheduler(lambda e, lr: 0.1 / (e + 1)),
            callbacks.ModelCheckpoint(str(tmp_path / "best.safetensors"), save_best_only=True),
        ],
    )
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae", "learning_rate"}
    assert len(history.history["loss"]) == 3 and events[0][0] == 0
    assert np.isclose(model.optimizer.learning_rate, 0.1 / 3)
    assert (tmp_path / "best.safetensors").exists()


def test_early_stopping_stops():
    model = small_model()
    model.optimizer.learning_rate = 0.0  # nothing improves
    stop = callbacks.EarlyStopping(monitor="loss", patience=2)
    history = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=20, verbose=0, callbacks=[stop])
    assert len(history.history["loss"]) == 3 and stop.stopped_epoch == 2


def test_evaluate_and_predict_batch_and_use_inference_mode():
    model = small_model()
    x, y = np.ones((33, 3)), np.zeros((33, 1))
    loss, mae = model.evaluate(x, y, batch_size=8, verbose=0)
    pred = model.predict(x, batch_size=8)
    assert pred.shape == (33, 1)
    np.testing.assert_allclose(loss, np.mean(pred**2), rtol=1e-5)
    np.testing.assert_allclose(mae, np.mean(np.abs(pred)), rtol=1e-5)


def test_predict_of_one_quiet_batch_is_predict_on_batch():
    """One array within a batch, verbose 0, no callbacks: the short path gives predict's outputs and errors."""
    model = small_model()
    x = np.random.default_rng(3).standard_normal((5, 3))  # float64: converted as predict converts it
    seen = []

    class Count(callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            seen.append(batch)

    mode = model.training
    quiet = model.predict(x, verbose=0)
    assert model.training == mode  # inference mode for the call only
    np.testing.assert_array_equal(quiet, model.predict(x, verbose=0, callbacks=[Count()]))  # the full loop
    np.testing.assert_array_equal(quiet, model.predict_on_batch(x))
    np.testing.assert_array_equal(quiet, np.concatenate([model.predict(x[:3], verbose=0), model.predict(x[3:])]))
    assert seen == [0]
    with pytest.raises(ValueError, match=r"^\[predict\] batch_size must be an integer >= 1"):
        model.predict(x, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match=r"^\[predict\] x has no samples"):
        model.predict(x[:0], verbose=0)
    with pytest.raises(ValueError, match=r"expects inputs of shape \(3,\)"):
        model.predict(np.ones((2, 4)), verbose=0)


def test_fused_softmax_crossentropy_matches_the_plain_one():
    x, y = blobs(16, 8, 1, 4)
    ranvier.utils.set_seed(9)
    model = ranvier.Sequential([Flatten(input_shape=(8, 8, 1)), Dense(4, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    fused = model.evaluate(x, y, verbose=0)
    plain = float(losses.SparseCategoricalCrossentropy()(y, model(x)).item())
    assert np.isclose(fused, plain, rtol=1e-5)


def test_subclassed_model_and_summary(capsys):
    class TwoLayer(ranvier.Model):
        def __init__(self):
            super().__init__()
            self.hidden = Dense(16, activation="relu")
            self.out = Dense(3)

        def call(self, x):
            return self.out(self.hidden(x))

    model = TwoLayer()
    model(np.ones((2, 5)))
    assert len(model.trainable_weights) == 4 and model.count_params() == 5 * 16 + 16 + 16 * 3 + 3
    model.summary()
    text = capsys.readouterr().out
    assert "Total params: 147" in text and "(None, 16)" in text
    model.compile(optimizer=optimizers.AdamW(learning_rate=1e-2), loss="mse")
    loss_falls(model, np.random.default_rng(0).random((32, 5)), np.ones((32, 3)), epochs=3)


def test_compile_and_fit_errors_are_clear():
    model = ranvier.Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(RuntimeError, match="call compile"):
        model.fit(np.ones((4, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        model.compile(loss="hinge")
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"\[fit\] x has 4 samples but y has 5"):
        model.fit(np.ones((4, 3)), np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"\[Dense 'dense.*'\] expects inputs of shape \(3,\)"):
        model.fit(np.ones((4, 7)), np.ones((4, 2)), verbose=0)


def test_binary_accuracy_with_flat_labels():
    from ranvier import metrics

    pred = np.array([[0.9], [0.2], [0.7]], np.float32)
    assert metrics.binary_accuracy(np.array([1.0, 0.0, 0.0]), pred) == pytest.approx(2 / 3)
    accuracy = metrics.get("accuracy", "binary_crossentropy")
    assert accuracy(np.array([1, 0, 1]), pred) == 1.0


def test_rmsprop_is_keras_default_and_follows_its_formula():
    model = ranvier.Sequential([Dense(1, input_shape=(2,), use_bias=False)])
    model.compile(loss="mse")
    assert isinstance(model.optimizer, optimizers.RMSprop)
    w = ranvier.tensor(np.array([1.0, -2.0], np.float32), requires_grad=True)
    opt = optimizers.RMSprop([w], learning_rate=0.1, rho=0.9)
    v = np.zeros(2)
    p = np.array([1.0, -2.0])
    for _ in range(3):
        (w * w).sum().backward()
        g = 2 * p
        v = 0.9 * v + 0.1 * g * g
        p = p - 0.1 * g / (np.sqrt(v) + 1e-7)
        opt.step()
        opt.zero_grad()
    np.testing.assert_allclose(w.numpy(), p, rtol=1e-5)


def test_train_step_called_directly_after_compile_trains():
    model = ranvier.Sequential([ranvier.layers.Dense(3)])
    model.compile("sgd", loss="mse")
    x, y = np.ones((4, 5), np.float32), np.zeros((4, 3), np.float32)
    first = model.train_step(x, y)["loss"]
    assert model.train_step(x, y)["loss"] < first  # the optimizer was bound to the weights built by the call


def test_predict_and_evaluate_run_every_layer_in_inference_mode_then_restore_it():
    """predict/evaluate/predict_on_batch/test_on_batch set every layer (nested ones too) to inference
    and back to the model's mode; a layer that overrides train() still gets the calls."""
    from ranvier.layers import Layer

    seen, calls = [], []

    class Probe(Layer):
        def call(self, x):
            seen.append(self.training)
            return x

    class Overrides(Probe):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    inner = ranvier.Sequential([Probe(), Dense(3)])
    model = ranvier.Sequential([Dense(4, input_shape=(5,)), inner, Probe()])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((6, 5), np.float32), np.zeros((6, 3), np.float32)
    for training in (True, False):
        model.train(training)
        for run in (
            lambda: model.predict(x, verbose=0),
            lambda: model.evaluate(x, y, verbose=0),
            lambda: model.predict_on_batch(x),
            lambda: model.test_on_batch(x, y),
        ):
            seen.clear()
            run()
            assert seen == [False, False]
            assert all(layer.training == training for layer in model._layer_tree())
    shown = ranvier.Sequential([Dense(2, input_shape=(5,)), Overrides()])
    shown.predict(x, verbose=0)  # builds first
    calls.clear()
    shown.predict(x, verbose=0)
    assert calls == [False, True]

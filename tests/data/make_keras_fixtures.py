"""Regenerate the Keras fixtures of tests/test_interop_keras.py (run by hand; the tests only read the files).

    pip install keras h5py torch
    KERAS_BACKEND=torch python tests/data/make_keras_fixtures.py

Writes, next to this script, for each model: ``keras_<name>.weights.h5`` (what
``model.save_weights`` writes) and ``keras_<name>.npz`` (``x``, an input batch,
and ``y``, Keras' predictions for it in inference mode).
"""

import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).parent


def conv_model():
    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(6, activation="relu"),
            keras.layers.LayerNormalization(),
            keras.layers.Dense(3),
        ]
    )


def sequence_model():
    return keras.Sequential(
        [
            keras.Input((5,), dtype="int32"),
            keras.layers.Embedding(10, 4),
            keras.layers.LSTM(6, return_sequences=True),
            keras.layers.SimpleRNN(5),
            keras.layers.Dense(2),
        ]
    )


def gru_model():
    return keras.Sequential(
        [
            keras.Input((5,), dtype="int32"),
            keras.layers.Embedding(10, 4),
            keras.layers.GRU(6, return_sequences=True),
            keras.layers.GRU(5, reset_after=False),
            keras.layers.Dense(2),
        ]
    )


def wrappers_model():
    return keras.Sequential(
        [
            keras.Input((6, 4)),
            keras.layers.Conv1D(5, 2),
            keras.layers.PReLU(),
            keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True)),
            keras.layers.Bidirectional(keras.layers.GRU(2, return_sequences=True), merge_mode="sum"),
            keras.layers.Bidirectional(keras.layers.SimpleRNN(2, return_sequences=True), merge_mode="ave"),
            keras.layers.TimeDistributed(keras.layers.Dense(3)),
            keras.layers.Reshape((5, 3, 1)),
            keras.layers.Conv2DTranspose(2, 2, strides=2),
        ]
    )


def frames_model():
    return keras.Sequential(
        [
            keras.Input((3, 6, 5, 2)),
            keras.layers.TimeDistributed(keras.layers.Conv2D(3, 3, activation="relu")),
            keras.layers.TimeDistributed(keras.layers.Flatten()),
            keras.layers.Bidirectional(keras.layers.GRU(2, reset_after=False), merge_mode="mul"),
        ]
    )


def randomize(model, rng):
    """Every weight random (BatchNorm's moving variance positive), so a misplaced one changes the outputs."""
    for weight in model.weights:
        value = rng.normal(0.0, 0.5, weight.shape).astype("float32")
        weight.assign(np.abs(value) + 0.5 if "variance" in weight.path else value)


def main():
    rng = np.random.default_rng(0)
    inputs = {
        "conv": rng.normal(size=(2, 8, 8, 3)).astype("float32"),
        "sequence": rng.integers(0, 10, size=(3, 5)).astype("int32"),
    }
    for name, build in (("conv", conv_model), ("sequence", sequence_model)):
        model = build()
        randomize(model, rng)
        model.save_weights(HERE / f"keras_{name}.weights.h5")
        x = inputs[name]
        np.savez(HERE / f"keras_{name}.npz", x=x, y=np.asarray(model.predict(x, verbose=0)))
    write_gru()
    write_wrappers()


def write_wrappers():
    """Conv1D, PReLU, Bidirectional, TimeDistributed, Conv2DTranspose (added later, their own generator)."""
    rng = np.random.default_rng(2)
    for name, build, shape in (("wrappers", wrappers_model, (2, 6, 4)), ("frames", frames_model, (2, 3, 6, 5, 2))):
        model = build()
        randomize(model, rng)
        model.save_weights(HERE / f"keras_{name}.weights.h5")
        x = rng.normal(size=shape).astype("float32")
        np.savez(HERE / f"keras_{name}.npz", x=x, y=np.asarray(model.predict(x, verbose=0)))


def write_gru():
    """The GRU fixture, from its own generator (added later: the others' draws stay as they were)."""
    rng = np.random.default_rng(1)
    model = gru_model()
    randomize(model, rng)
    model.save_weights(HERE / "keras_gru.weights.h5")
    x = rng.integers(0, 10, size=(3, 5)).astype("int32")
    np.savez(HERE / "keras_gru.npz", x=x, y=np.asarray(model.predict(x, verbose=0)))


if __name__ == "__main__":
    main()

"""Conv1D, Conv2DTranspose, MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D/2D
and GlobalAveragePooling1D/2D's keepdims: Keras 3's arguments, weight layouts
and outputs (against the reference without Keras, against Keras' own layers,
torch backend, with the same weights), configs, training, refusals."""

import os

import numpy as np
import pytest
from helpers import assert_close, f32

import ranvier
from ranvier import layers, reference


def _call(layer, x):
    return layer(ranvier.tensor(x)).data


def test_conv1d_layer_is_the_reference_op(rng):
    x = f32(rng, 2, 11, 3)
    layer = layers.Conv1D(4, 3, strides=2, padding="causal", dilation_rate=1, activation="tanh")
    y = _call(layer, x)
    assert layer.kernel.shape == (3, 3, 4) and layer.bias.shape == (4,)
    w, b = (v.astype(np.float64) for v in layer.get_weights())
    assert_close(y, reference.conv1d(x.astype(np.float64), w, b, 2, "causal", 1, "tanh"), 1e-5, 1e-5)


def test_conv2d_transpose_layer_is_the_reference_op(rng):
    x = f32(rng, 2, 4, 5, 3)
    layer = layers.Conv2DTranspose(6, (3, 2), strides=2, padding="same", output_padding=1, activation="relu")
    y = _call(layer, x)
    assert layer.kernel.shape == (3, 2, 6, 3)  # Keras: (kh, kw, filters, in)
    w, b = (v.astype(np.float64) for v in layer.get_weights())
    want = np.maximum(reference.conv2d_transpose(x.astype(np.float64), w, b, 2, "same", 1), 0)
    assert y.shape == (2, 8, 9, 6)  # (H - 1) * 2 + span % 2 + 1
    assert_close(y, want, 1e-5, 1e-5)


@pytest.mark.parametrize(
    "layer,shape,want",
    [
        (layers.MaxPooling1D(3, 2, "same"), (2, 9, 4), lambda x: reference.max_pool1d(x, 3, 2, "same")),
        (layers.AveragePooling1D(), (2, 9, 4), lambda x: reference.avg_pool1d(x, 2)),
        (layers.GlobalMaxPooling1D(), (2, 9, 4), reference.global_max_pool),
        (layers.GlobalMaxPooling1D(keepdims=True), (2, 9, 4), lambda x: reference.global_max_pool(x)[:, None]),
        (layers.GlobalMaxPooling2D(), (2, 5, 3, 4), reference.global_max_pool),
        (layers.GlobalMaxPooling2D(keepdims=True), (2, 5, 3, 4), lambda x: reference.global_max_pool(x)[:, None, None]),
        (layers.GlobalAveragePooling1D(keepdims=True), (2, 9, 4), lambda x: x.mean(axis=1, keepdims=True)),
        (layers.GlobalAveragePooling2D(keepdims=True), (2, 5, 3, 4), lambda x: x.mean(axis=(1, 2), keepdims=True)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, layers.Layer) else None,
)
def test_pooling_layers_are_the_reference_ops(layer, shape, want, rng):
    x = f32(rng, *shape)
    assert_close(_call(layer, x), want(x.astype(np.float64)), 1e-6, 1e-6)


def test_a_sequence_model_trains_and_round_trips(tmp_path, rng):
    model = ranvier.Sequential(
        [
            layers.Input((12, 3)),
            layers.Conv1D(8, 3, padding="causal", activation="relu"),
            layers.MaxPooling1D(2),
            layers.Conv1D(8, 2, padding="same"),
            layers.AveragePooling1D(2, padding="same"),
            layers.GlobalMaxPooling1D(),
            layers.Dense(1),
        ]
    )
    x, y = f32(rng, 32, 12, 3), f32(rng, 32, 1)
    model.compile(optimizer="adam", loss="mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
    path = tmp_path / "seq.safetensors"
    model.save(path)
    np.testing.assert_array_equal(ranvier.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))


def test_an_image_decoder_trains_and_round_trips(tmp_path, rng):
    model = ranvier.Sequential(
        [
            layers.Input((4, 4, 3)),
            layers.Conv2DTranspose(5, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(2, 2, strides=2, output_padding=(1, 0)),
            layers.GlobalMaxPooling2D(keepdims=True),
        ]
    )
    x = f32(rng, 16, 4, 4, 3)
    assert model.predict(x, verbose=0).shape == (16, 1, 1, 2)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, f32(rng, 16, 1, 1, 2), epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "dec.safetensors"
    model.save(path)
    np.testing.assert_array_equal(ranvier.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize(
    "layer",
    [
        layers.Conv1D(4, (3,), strides=(2,), padding="CAUSAL", dilation_rate=1, use_bias=False),
        layers.Conv2DTranspose(3, 2, strides=(2, 3), padding="same", output_padding=(1, 2), dilation_rate=1),
        layers.MaxPooling1D(pool_size=(3,), strides=1, padding="same"),
        layers.AveragePooling1D(4),
        layers.GlobalMaxPooling1D(keepdims=True),
        layers.GlobalMaxPooling2D(),
        layers.GlobalAveragePooling2D(keepdims=True),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_get_config_round_trips(layer):
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config


@pytest.mark.parametrize(
    "make",
    [
        lambda: layers.Conv1D(4, 3, data_format="channels_first"),
        lambda: layers.Conv2DTranspose(4, 3, data_format="channels_first"),
        lambda: layers.MaxPooling1D(data_format="channels_first"),
        lambda: layers.GlobalMaxPooling2D(data_format="channels_first"),
        lambda: layers.GlobalAveragePooling1D(data_format="channels_first"),
    ],
)
def test_channels_first_is_refused_clearly(make):
    with pytest.raises(ValueError, match=r"data_format must be 'channels_last' \(ranvier is channels-last only"):
        make()


def test_bad_arguments_name_the_layer():
    with pytest.raises(ValueError, match=r"\[Conv1D\] padding must be 'valid', 'same' or 'causal'"):
        layers.Conv1D(4, 3, padding="full")
    with pytest.raises(ValueError, match=r"\[Conv1D\] kernel_size must be a positive int or a tuple of one"):
        layers.Conv1D(4, (3, 3))
    with pytest.raises(ValueError, match=r"\[Conv2DTranspose\] output_padding must be less than strides \(2, 2\)"):
        layers.Conv2DTranspose(4, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match=r"\[Conv2DTranspose\] padding must be 'valid' or 'same'"):
        layers.Conv2DTranspose(4, 3, padding="causal")
    with pytest.raises(ValueError, match=r"\[Conv1D 'c1'\] expects sequences \(N, L, C\)"):
        layers.Conv1D(4, 3, name="c1")(ranvier.tensor(np.zeros((1, 5, 5, 2), np.float32)))
    with pytest.raises(ValueError, match=r"\[GlobalMaxPooling1D 'g'\] expects \(N, L, C\)"):
        layers.GlobalMaxPooling1D(name="g")(ranvier.tensor(np.zeros((1, 5, 5, 2), np.float32)))
    with pytest.raises(TypeError, match=r"\[GlobalMaxPooling2D\] keepdims must be True or False"):
        layers.GlobalMaxPooling2D(keepdims=1)


# ---- against Keras 3 (torch backend), the same weights ----------------------


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip(f"Keras runs on {keras.backend.backend()}, these comparisons use its torch backend")
    return keras


def _keras_output(keras_layer, x):
    out = keras_layer(x)
    return out.detach().cpu().numpy() if hasattr(out, "detach") else np.asarray(out)


CONV_LAYERS = [
    ("Conv1D", dict(filters=4, kernel_size=3), (2, 11, 3)),
    ("Conv1D", dict(filters=5, kernel_size=4, strides=2, padding="same", activation="relu"), (2, 11, 3)),
    ("Conv1D", dict(filters=5, kernel_size=3, padding="causal", dilation_rate=2, activation="tanh"), (2, 11, 3)),
    ("Conv1D", dict(filters=2, kernel_size=2, use_bias=False, padding="causal"), (1, 6, 7)),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3), (2, 5, 4, 3)),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, padding="same"), (2, 5, 4, 3)),
    ("Conv2DTranspose", dict(filters=4, kernel_size=(3, 2), strides=2, padding="same", output_padding=1), (2, 5, 4, 3)),
    (
        "Conv2DTranspose",
        dict(filters=4, kernel_size=4, strides=(3, 2), padding="valid", output_padding=(2, 1)),
        (2, 5, 4, 3),
    ),
    ("Conv2DTranspose", dict(filters=3, kernel_size=2, strides=3, activation="sigmoid"), (2, 3, 3, 5)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=3, padding="same", dilation_rate=2), (2, 5, 6, 2)),
]


@pytest.mark.parametrize("name,kwargs,shape", CONV_LAYERS, ids=[f"{n}-{sorted(k.items())}" for n, k, _ in CONV_LAYERS])
def test_conv_layers_match_keras_with_the_same_weights(keras, name, kwargs, shape, rng):
    x = f32(rng, *shape)
    keras_layer = getattr(keras.layers, name)(**kwargs)
    want = _keras_output(keras_layer, x)
    mine = getattr(layers, name)(**kwargs)
    mine(ranvier.tensor(x))  # build
    mine.set_weights([np.asarray(w) for w in keras_layer.get_weights()])  # Keras' layouts as they are
    assert_close(_call(mine, x), want, 1e-5, 1e-4, name)


POOL_LAYERS = [
    ("MaxPooling1D", dict(), (2, 9, 4)),
    ("MaxPooling1D", dict(pool_size=3, strides=2, padding="same"), (2, 10, 4)),
    ("AveragePooling1D", dict(pool_size=3, strides=1, padding="same"), (2, 7, 4)),
    ("AveragePooling1D", dict(pool_size=4, strides=3), (2, 11, 4)),
    ("GlobalMaxPooling1D", dict(), (2, 9, 4)),
    ("GlobalMaxPooling1D", dict(keepdims=True), (2, 9, 4)),
    ("GlobalMaxPooling2D", dict(), (2, 5, 3, 4)),
    ("GlobalMaxPooling2D", dict(keepdims=True), (2, 5, 3, 4)),
    ("GlobalAveragePooling1D", dict(keepdims=True), (2, 9, 4)),
    ("GlobalAveragePooling2D", dict(keepdims=True), (2, 5, 3, 4)),
]


@pytest.mark.parametrize("name,kwargs,shape", POOL_LAYERS, ids=[f"{n}-{sorted(k.items())}" for n, k, _ in POOL_LAYERS])
def test_pooling_layers_match_keras(keras, name, kwargs, shape, rng):
    x = f32(rng, *shape)
    assert_close(
        _call(getattr(layers, name)(**kwargs), x), _keras_output(getattr(keras.layers, name)(**kwargs), x), 1e-6, 1e-5
    )

"""ONNX export: every exported layer and the seed networks give predict's outputs in onnxruntime."""

import numpy as np
import pytest

import ranvier
from ranvier import functional as F
from ranvier import layers as L

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


def _rng():
    return np.random.default_rng(0)


def _run_onnx(model, x, tmp_path, **kwargs):
    path = tmp_path / "model.onnx"
    model.export(str(path), format="onnx", **kwargs)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def _assert_same(model, x, tmp_path, **kwargs):
    expected = model.predict(x)
    got = _run_onnx(model, x, tmp_path, **kwargs)
    assert got.shape == expected.shape
    scale = max(float(np.max(np.abs(expected))), 1.0)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * scale)


def _randomize(model):
    """Weights away from their initial values (biases and statistics are zeros and ones at first)."""
    rng = _rng()
    for w in model.weights:
        w.data[...] = rng.normal(0, 0.5, w.shape).astype(np.float32)
    for layer in model.sublayers():
        if isinstance(layer, L.BatchNormalization):
            layer.moving_variance.data[...] = rng.uniform(0.5, 2.0, layer.moving_variance.shape)


IMAGE = (9, 8, 3)
CASES = {
    **{
        f"dense_{act}": ((5,), [L.Dense(4, activation=act)])
        for act in [None, "linear", "relu", "sigmoid", "tanh", "gelu", "softmax"]
    },
    "conv_valid_relu": (IMAGE, [L.Conv2D(4, 3, activation="relu")]),
    "conv_same_strided": (IMAGE, [L.Conv2D(4, (3, 2), strides=2, padding="same", activation="gelu")]),
    "conv_dilated_softmax": (IMAGE, [L.Conv2D(4, 3, dilation_rate=2, padding="same", activation="softmax")]),
    "conv_no_bias": (IMAGE, [L.Conv2D(4, 2, use_bias=False)]),
    "max_pool": (IMAGE, [L.MaxPooling2D()]),
    "max_pool_same": (IMAGE, [L.MaxPooling2D(3, strides=2, padding="same")]),
    "avg_pool": (IMAGE, [L.AveragePooling2D((2, 3))]),
    "avg_pool_same": (IMAGE, [L.AveragePooling2D(3, strides=2, padding="same")]),
    "global_avg_pool": (IMAGE, [L.GlobalAveragePooling2D()]),
    "global_avg_pool_1d": ((6, 4), [L.GlobalAveragePooling1D()]),
    "flatten_dense": (IMAGE, [L.Flatten(), L.Dense(3)]),
    "reshape": ((12,), [L.Reshape((3, -1)), L.Dense(2)]),
    "dropout": ((5,), [L.Dropout(0.5), L.Dense(3)]),
    **{f"activation_{act}": ((5,), [L.Activation(act)]) for act in ["relu", "sigmoid", "tanh", "gelu", "softmax"]},
    "batch_norm": (IMAGE, [L.BatchNormalization()]),
    "batch_norm_plain": ((5,), [L.BatchNormalization(center=False, scale=False)]),
    "layer_norm": ((6, 5), [L.LayerNormalization()]),
    "lstm": ((7, 3), [L.LSTM(4)]),
    "lstm_sequences": ((7, 3), [L.LSTM(4, return_sequences=True), L.LSTM(2)]),
    "upsampling": (IMAGE, [L.UpSampling2D((3, 2))]),
    "upsampling_bilinear": (IMAGE, [L.UpSampling2D((2, 3), interpolation="bilinear")]),
    "upsampling_1d": ((6, 4), [L.UpSampling1D(3)]),
    "zero_padding": (IMAGE, [L.ZeroPadding2D(((1, 2), (0, 3)))]),
    "zero_padding_1d": ((6, 4), [L.ZeroPadding1D((2, 1))]),
    "cropping": (IMAGE, [L.Cropping2D(((1, 2), (0, 3)))]),
    "cropping_1d": ((6, 4), [L.Cropping1D((2, 1))]),
    "pad_conv_upsample_crop": (
        IMAGE,
        [L.ZeroPadding2D(1), L.Conv2D(4, 3), L.UpSampling2D(2), L.Cropping2D(((1, 1), (2, 0)))],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_layer_matches_predict(case, tmp_path):
    shape, layers = CASES[case]
    model = ranvier.Sequential([L.Input(shape), *layers])
    _randomize(model)
    x = _rng().normal(0, 2, (3,) + shape).astype(np.float32)
    _assert_same(model, x, tmp_path)


def test_embedding_takes_int64_ids(tmp_path):
    model = ranvier.Sequential([L.Embedding(11, 4, input_shape=(6,)), L.GlobalAveragePooling1D(), L.Dense(2)])
    ids = _rng().integers(0, 11, (5, 6)).astype(np.int64)
    _assert_same(model, ids, tmp_path)


def test_mnist_cnn_any_batch_size(tmp_path):
    model = ranvier.Sequential(
        [
            L.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
            L.MaxPooling2D(),
            L.Conv2D(64, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dense(128, activation="relu"),
            L.Dense(10, activation="softmax"),
        ]
    )
    x = _rng().uniform(0, 1, (7, 28, 28, 1)).astype(np.float32)
    _assert_same(model, x, tmp_path)
    _assert_same(model, x[:1], tmp_path)


def test_mlp_trained(tmp_path):
    rng = _rng()
    x = rng.normal(size=(64, 20)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = ranvier.Sequential(
        [L.Dense(32, activation="relu", input_shape=(20,)), L.Dropout(0.2), L.Dense(2, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    _assert_same(model, x, tmp_path)


class _Subclassed(ranvier.Model):
    """Layers and functional ops mixed in call, a residual add and a reshape between them."""

    def __init__(self):
        super().__init__()
        self.conv = L.Conv2D(4, 3, padding="same")
        self.fc1 = L.Dense(16)
        self.fc2 = L.Dense(16)
        self.out = L.Dense(3)

    def call(self, x):
        h = F.relu(self.conv(x))
        h = h.reshape(h.shape[0], -1)
        h = F.tanh(self.fc1(h))
        h = h + F.sigmoid(self.fc2(h))
        return F.softmax(self.out(h), axis=-1)


def test_subclassed_model(tmp_path):
    model = _Subclassed()
    x = _rng().normal(size=(4, 6, 5, 2)).astype(np.float32)
    model(x)
    _assert_same(model, x, tmp_path)


def test_nested_sequential_in_subclassed_model(tmp_path):
    class Net(ranvier.Model):
        def __init__(self):
            super().__init__()
            self.body = ranvier.Sequential([L.Dense(8, activation="relu"), L.Dense(8)])

        def call(self, x):
            return self.body(x) + 1.0

    model = Net()
    x = _rng().normal(size=(3, 5)).astype(np.float32)
    _assert_same(model, x, tmp_path, input_shape=(5,))


def test_nn_modules(tmp_path):
    from ranvier import nn

    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    _assert_same(model, _rng().normal(size=(4, 6)).astype(np.float32), tmp_path, input_shape=(6,))


def test_layer_without_exporter_is_named(tmp_path):
    model = ranvier.Sequential([L.Input((5, 8)), L.MultiHeadAttention(2, 4)])
    with pytest.raises(ValueError, match=r"MultiHeadAttention '.*' has no ONNX exporter"):
        model.export(str(tmp_path / "m.onnx"), format="onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_unrecorded_functional_op_is_named(tmp_path):
    class Net(ranvier.Model):
        def __init__(self):
            super().__init__()
            self.fc = L.Dense(3)

        def call(self, x):
            return self.fc(F.exp(x))

    model = Net()
    with pytest.raises(ValueError, match=r"Dense '.*' takes a value the ONNX export did not record"):
        model.export(str(tmp_path / "m.onnx"), format="onnx", input_shape=(4,))


def test_other_format_refused(tmp_path):
    model = ranvier.Sequential([L.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match=r"format must be one of 'onnx', got 'tf_saved_model'"):
        model.export(str(tmp_path / "m"), format="tf_saved_model")


def test_unknown_input_shape_refused(tmp_path):
    model = ranvier.Sequential([L.Dense(2)])
    with pytest.raises(ValueError, match="input shape is unknown"):
        model.export(str(tmp_path / "m.onnx"))

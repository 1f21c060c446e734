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
    "global_avg_pool_keepdims": (IMAGE, [L.GlobalAveragePooling2D(keepdims=True)]),
    "global_max_pool": (IMAGE, [L.GlobalMaxPooling2D()]),
    "global_max_pool_1d_keepdims": ((6, 4), [L.GlobalMaxPooling1D(keepdims=True)]),
    "conv1d_valid": ((11, 3), [L.Conv1D(4, 3, activation="relu")]),
    "conv1d_same_strided": ((11, 3), [L.Conv1D(4, 4, strides=2, padding="same", activation="tanh")]),
    "conv1d_causal_dilated": ((11, 3), [L.Conv1D(4, 3, padding="causal", dilation_rate=2, use_bias=False)]),
    "max_pool_1d_same": ((11, 3), [L.MaxPooling1D(3, strides=2, padding="same")]),
    "avg_pool_1d_same": ((11, 3), [L.AveragePooling1D(3, strides=2, padding="same")]),
    "conv_transpose_valid": (IMAGE, [L.Conv2DTranspose(4, 3)]),
    "conv_transpose_same_strided": (IMAGE, [L.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu")]),
    "conv_transpose_output_padding": (IMAGE, [L.Conv2DTranspose(4, (3, 2), strides=(3, 2), output_padding=(2, 1))]),
    "conv_transpose_same_output_padding": (
        IMAGE,
        [L.Conv2DTranspose(4, 4, strides=2, padding="same", output_padding=1)],
    ),
    "conv_transpose_small_kernel": (IMAGE, [L.Conv2DTranspose(2, 1, strides=3)]),
    "flatten_dense": (IMAGE, [L.Flatten(), L.Dense(3)]),
    "reshape": ((12,), [L.Reshape((3, -1)), L.Dense(2)]),
    "dropout": ((5,), [L.Dropout(0.5), L.Dense(3)]),
    **{f"activation_{act}": ((5,), [L.Activation(act)]) for act in ["relu", "sigmoid", "tanh", "gelu", "softmax"]},
    **{
        f"dense_{act}": ((5,), [L.Dense(4, activation=act)])
        for act in ["leaky_relu", "elu", "selu", "silu", "swish", "softplus", "softsign", "hard_sigmoid", "exponential"]
    },
    "activation_relu6": ((5,), [L.Activation("relu6")]),
    "conv_elu": (IMAGE, [L.Conv2D(4, 3, activation="elu")]),
    "batch_norm": (IMAGE, [L.BatchNormalization()]),
    "batch_norm_plain": ((5,), [L.BatchNormalization(center=False, scale=False)]),
    "layer_norm": ((6, 5), [L.LayerNormalization()]),
    "lstm": ((7, 3), [L.LSTM(4)]),
    "lstm_sequences": ((7, 3), [L.LSTM(4, return_sequences=True), L.LSTM(2)]),
    "simple_rnn": ((7, 3), [L.SimpleRNN(4)]),
    "simple_rnn_sequences": ((7, 3), [L.SimpleRNN(4, return_sequences=True), L.SimpleRNN(2)]),
    "positional_encoding": ((6, 5), [L.PositionalEncoding()]),
    "multi_head_attention": ((5, 8), [L.MultiHeadAttention(2, 3)]),
    "multi_head_attention_shapes": ((5, 6), [L.MultiHeadAttention(3, 2, value_dim=4, output_shape=7)]),
    "transformer_encoder": ((6, 8), [L.TransformerEncoder(2, 12)]),
    "transformer_encoder_pre_norm": ((6, 8), [L.TransformerEncoder(4, 12, activation="gelu", normalize_first=True)]),
    "lstm_no_bias": ((7, 3), [L.LSTM(4, use_bias=False)]),
    "simple_rnn_no_bias": ((7, 3), [L.SimpleRNN(4, use_bias=False)]),
    "gru": ((7, 3), [L.GRU(4)]),
    "gru_sequences_no_bias": ((7, 3), [L.GRU(4, return_sequences=True, use_bias=False), L.GRU(2)]),
    "gru_reset_before": ((7, 3), [L.GRU(4, reset_after=False, return_sequences=True)]),
    "upsampling": (IMAGE, [L.UpSampling2D((3, 2))]),
    "upsampling_bilinear": (IMAGE, [L.UpSampling2D((2, 3), interpolation="bilinear")]),
    "upsampling_1d": ((6, 4), [L.UpSampling1D(3)]),
    "zero_padding": (IMAGE, [L.ZeroPadding2D(((1, 2), (0, 3)))]),
    "zero_padding_1d": ((6, 4), [L.ZeroPadding1D((2, 1))]),
    "cropping": (IMAGE, [L.Cropping2D(((1, 2), (0, 3)))]),
    "cropping_1d": ((6, 4), [L.Cropping1D((2, 1))]),
    "leaky_relu_layer": ((5,), [L.LeakyReLU(0.1)]),
    "elu_layer": ((5,), [L.ELU(0.7)]),
    "relu_layer": ((5,), [L.ReLU()]),
    "relu_layer_general": ((5,), [L.ReLU(max_value=0.8, negative_slope=0.3, threshold=0.2)]),
    "relu_layer_clipped": ((5,), [L.ReLU(max_value=1.0)]),
    "prelu": (IMAGE, [L.PReLU()]),
    "prelu_shared": (IMAGE, [L.PReLU(shared_axes=[1, 2])]),
    "softmax_layer_axis": ((6, 5), [L.Softmax(axis=1)]),
    "bidirectional_lstm_concat": ((7, 3), [L.Bidirectional(L.LSTM(4, return_sequences=True))]),
    "bidirectional_lstm_last_sum": ((7, 3), [L.Bidirectional(L.LSTM(4), merge_mode="sum")]),
    "bidirectional_gru_mul": ((7, 3), [L.Bidirectional(L.GRU(4, return_sequences=True), merge_mode="mul")]),
    "bidirectional_gru_reset_before_ave": ((7, 3), [L.Bidirectional(L.GRU(4, reset_after=False), merge_mode="ave")]),
    "bidirectional_simple_rnn": ((7, 3), [L.Bidirectional(L.SimpleRNN(4, return_sequences=True)), L.Dense(2)]),
    "time_distributed_dense": ((7, 3), [L.TimeDistributed(L.Dense(4, activation="tanh"))]),
    "time_distributed_conv": ((3, 6, 5, 2), [L.TimeDistributed(L.Conv2D(4, 3, padding="same"))]),
    "time_distributed_flatten_lstm": ((3, 4, 4, 2), [L.TimeDistributed(L.Flatten()), L.LSTM(3)]),
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


class _Scale(L.Layer):
    def call(self, x):
        return x * 2.0


def test_layer_without_exporter_is_named(tmp_path):
    model = ranvier.Sequential([L.Input((5, 8)), _Scale()])
    with pytest.raises(ValueError, match=r"_Scale '.*' has no ONNX exporter"):
        model.export(str(tmp_path / "m.onnx"), format="onnx")
    assert not (tmp_path / "m.onnx").exists()


class _TwoInputAttention(ranvier.Model):
    """Cross-attention with a causal mask: the exporter takes the layer's key/value and mask arguments."""

    def __init__(self, mask=None):
        super().__init__()
        self.attention = L.MultiHeadAttention(2, 4)
        self.memory = L.Dense(8)
        self.mask = mask

    def call(self, x):
        memory = self.memory(x)
        return self.attention(x, memory, memory, attention_mask=self.mask, use_causal_mask=self.mask is None)


def test_cross_attention_with_causal_mask(tmp_path):
    model = _TwoInputAttention()
    x = _rng().normal(size=(3, 5, 6)).astype(np.float32)
    model.predict(x)
    _randomize(model)
    _assert_same(model, x, tmp_path)


def test_attention_mask_refused(tmp_path):
    model = _TwoInputAttention(mask=np.ones((2, 5, 5), bool))
    with pytest.raises(ValueError, match=r"MultiHeadAttention '.*': attention_mask has no ONNX exporter"):
        model.export(str(tmp_path / "m.onnx"), format="onnx", input_shape=(5, 6))


def test_rnn_return_state_refused(tmp_path):
    class Net(ranvier.Model):
        def __init__(self):
            super().__init__()
            self.rnn = L.SimpleRNN(3, return_state=True)

        def call(self, x):
            return self.rnn(x)[0]

    with pytest.raises(ValueError, match=r"SimpleRNN '.*': return_state=True has no ONNX exporter"):
        Net().export(str(tmp_path / "m.onnx"), format="onnx", input_shape=(4, 2))


@pytest.mark.parametrize(
    "layer, message",
    [
        (L.LSTM(4, go_backwards=True), r"LSTM '.*': only activation='tanh', .* got .* go_backwards=True"),
        (L.LSTM(4, activation="relu"), r"LSTM '.*': only activation='tanh'.* got activation='relu'"),
        (L.SimpleRNN(4, activation="relu"), r"SimpleRNN '.*': only activation='tanh'.* got activation='relu'"),
        (L.GRU(4, recurrent_activation="tanh"), r"GRU '.*': only .* got .*recurrent_activation='tanh'"),
    ],
)
def test_recurrent_options_without_exporter_are_named(layer, message, tmp_path):
    model = ranvier.Sequential([L.Input((5, 3)), layer])
    with pytest.raises(ValueError, match=message):
        model.export(str(tmp_path / "m.onnx"), format="onnx")


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


# ---- functional models: inputs and outputs by name, merge layers, shared layers ----------------------------
def _run_named(model, feeds, tmp_path):
    path = tmp_path / "model.onnx"
    model.export(str(path), format="onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == list(feeds)
    return session, session.run(None, feeds)


def test_functional_model_with_two_inputs_two_outputs_and_every_merge(tmp_path):
    a, b = ranvier.Input((6,), name="a"), ranvier.Input((6,), name="b")
    shared = L.Dense(6, activation="tanh", name="shared")
    ha, hb = shared(a), shared(b)
    merged = [
        layer([ha, hb])
        for layer in (L.Add(), L.Subtract(), L.Multiply(), L.Average(), L.Maximum(), L.Minimum(), L.Concatenate())
    ]
    joined = L.Concatenate(name="joined")(merged)
    first = L.Dense(3, activation="softmax", name="kind")(joined)
    second = L.Dense(1, name="price")(L.Add()([L.Dense(6)(joined), hb]))
    model = ranvier.Model([a, b], [first, second])
    _randomize(model)
    rng = _rng()
    feeds = {"a": rng.normal(size=(4, 6)).astype(np.float32), "b": rng.normal(size=(4, 6)).astype(np.float32)}
    session, got = _run_named(model, feeds, tmp_path)
    assert [o.name for o in session.get_outputs()] == ["kind", "price"]
    for g, want in zip(got, model.predict(feeds, verbose=0)):
        np.testing.assert_allclose(g, want, rtol=0, atol=1e-5 * max(float(np.max(np.abs(want))), 1.0))


def test_functional_model_with_a_nested_model_and_an_image_input(tmp_path):
    inner_in = ranvier.Input((6, 6, 3))
    inner = ranvier.Model(inner_in, L.MaxPooling2D()(L.Conv2D(4, 3, padding="same", activation="relu")(inner_in)))
    image = ranvier.Input((6, 6, 3), name="image")
    out = L.Dense(2)(L.Flatten()(inner(image)))
    model = ranvier.Model(image, out)
    _randomize(model)
    feeds = {"image": _rng().normal(size=(3, 6, 6, 3)).astype(np.float32)}
    _, (got,) = _run_named(model, feeds, tmp_path)
    np.testing.assert_allclose(got, model.predict(feeds["image"], verbose=0), rtol=0, atol=1e-4)


def test_functional_model_with_a_free_axis_refused(tmp_path):
    inp = ranvier.Input((None, 4), name="tokens")
    model = ranvier.Model(inp, L.GlobalAveragePooling1D()(L.Dense(3)(inp)))
    with pytest.raises(ValueError, match=r"input 'tokens' has a free axis \(None, None, 4\)"):
        model.export(str(tmp_path / "m.onnx"))


def test_time_distributed_any_batch_size(tmp_path):
    model = ranvier.Sequential([L.Input((4, 3)), L.TimeDistributed(L.Dense(2))])
    _randomize(model)
    path = tmp_path / "m.onnx"
    model.export(str(path), format="onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (1, 5):
        x = _rng().normal(size=(n, 4, 3)).astype(np.float32)
        np.testing.assert_allclose(session.run(None, {"input": x})[0], model.predict(x), rtol=0, atol=1e-5)


def test_relu_layer_keeps_nan(tmp_path):
    model = ranvier.Sequential([L.Input((3,)), L.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5)])
    x = np.array([[np.nan, -1.0, 3.0]], np.float32)
    got = _run_onnx(model, x, tmp_path)
    assert np.isnan(got[0, 0]) and np.isnan(model.predict(x)[0, 0])
    np.testing.assert_allclose(got[0, 1:], [-0.15, 2.0], rtol=1e-6)


@pytest.mark.parametrize(
    "layer, message",
    [
        (L.Lambda(lambda x: x * 2.0), r"Lambda '.*': a Lambda runs arbitrary Python"),
        (L.Bidirectional(L.LSTM(3, return_state=True)), r"Bidirectional '.*': return_state=True"),
        (L.Bidirectional(L.LSTM(3), merge_mode=None), r"Bidirectional '.*': merge_mode=None"),
        (L.Bidirectional(L.LSTM(3, activation="relu")), r"only activation='tanh'"),
        (L.TimeDistributed(L.Lambda(lambda x: x)), r"Lambda '.*': a Lambda runs arbitrary Python"),
    ],
)
def test_new_layers_without_exporter_are_named(layer, message, tmp_path):
    model = ranvier.Sequential([L.Input((5, 4)), layer])
    with pytest.raises(ValueError, match=message):
        model.export(str(tmp_path / "m.onnx"), format="onnx")


def test_nn_new_modules(tmp_path):
    from ranvier import nn

    model = nn.Sequential(
        nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1),
        nn.LeakyReLU(),
        nn.Conv2d(4, 4, 3, padding=1),
        nn.PReLU(),
        nn.ZeroPad2d((1, 0, 2, 1)),
        nn.Upsample(scale_factor=2),
        nn.AdaptiveAvgPool2d(1),
        nn.Identity(),
        nn.GELU(),
    )
    _randomize(model)
    _assert_same(model, _rng().normal(size=(2, 5, 6, 3)).astype(np.float32), tmp_path, input_shape=(5, 6, 3))
    seq = nn.Sequential(nn.Conv1d(3, 4, 3, padding=2), nn.SiLU(), nn.MaxPool1d(2), nn.Softmax(dim=-1))
    _randomize(seq)
    _assert_same(seq, _rng().normal(size=(2, 9, 3)).astype(np.float32), tmp_path, input_shape=(9, 3))

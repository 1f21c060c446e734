"""ranvier.interop.load_torch_state_dict: the same network in PyTorch and ranvier gives the same outputs."""

import numpy as np
import pytest

import ranvier
from ranvier import layers
from ranvier import nn as rnn
from ranvier.interop import load_torch_state_dict

torch = pytest.importorskip("torch")
tnn = torch.nn


def randomize(module):
    """Non-trivial values everywhere, BatchNorm's running statistics included."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for value in module.state_dict().values():
            if value.dtype.is_floating_point:
                value.copy_(torch.rand(value.shape, generator=gen) * 0.5 + 0.25)


def ranvier_out(model, x):
    return model(ranvier.tensor(x)).numpy()


def test_conv_batchnorm_pool_flatten_dense_sequential():
    """Keras-style Sequential by order; Flatten joins NHWC in (H, W, C) order, PyTorch's NCHW in (C, H, W),
    so the Linear's columns are permuted to (H, W, C) before loading."""
    torch.manual_seed(0)
    net = tnn.Sequential(
        tnn.Conv2d(3, 4, 3),
        tnn.BatchNorm2d(4),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Conv2d(4, 5, 3, padding=1),
        tnn.ReLU(),
        tnn.Flatten(),
        tnn.Linear(5 * 3 * 3, 6),
        tnn.ReLU(),
        tnn.Linear(6, 3),
    ).eval()
    randomize(net)
    model = ranvier.Sequential(
        [
            layers.Conv2D(4, 3, input_shape=(8, 8, 3)),
            layers.BatchNormalization(epsilon=1e-5),
            layers.Activation("relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(5, 3, padding="same", activation="relu"),
            layers.Flatten(),
            layers.Dense(6, activation="relu"),
            layers.Dense(3),
        ]
    )
    sd = net.state_dict()
    sd["7.weight"] = sd["7.weight"].reshape(6, 5, 3, 3).permute(0, 2, 3, 1).reshape(6, -1)
    assert load_torch_state_dict(model, sd) == ([], [])
    model.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    want = net(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ranvier_out(model, x.transpose(0, 2, 3, 1)), want, rtol=1e-4, atol=1e-5)


def test_lstm_and_dense_by_order_keep_the_gate_order():
    class TorchNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = tnn.LSTM(5, 7, batch_first=True)
            self.head = tnn.Linear(7, 2)

        def forward(self, x):
            return self.head(self.lstm(x)[0])

    torch.manual_seed(1)
    net = TorchNet()
    model = ranvier.Sequential([layers.LSTM(7, return_sequences=True, input_shape=(6, 5)), layers.Dense(2)])
    load_torch_state_dict(model, net.state_dict())
    x = np.random.default_rng(1).standard_normal((3, 6, 5)).astype(np.float32)
    want = net(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ranvier_out(model, x), want, rtol=1e-4, atol=1e-5)


def test_gru_by_order_and_nn_gru_by_name_reorder_the_gates():
    class TorchNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.gru = tnn.GRU(5, 7, num_layers=2, batch_first=True)
            self.head = tnn.Linear(7, 2)

        def forward(self, x):
            return self.head(self.gru(x)[0])

    class RanvierNet(rnn.Module):
        def __init__(self):
            super().__init__()
            self.gru = rnn.GRU(5, 7, num_layers=2, batch_first=True)
            self.head = rnn.Linear(7, 2)

        def forward(self, x):
            return self.head(self.gru(x)[0])

    torch.manual_seed(3)
    net = TorchNet()
    x = np.random.default_rng(3).standard_normal((3, 6, 5)).astype(np.float32)
    want = net(torch.from_numpy(x)).detach().numpy()
    by_name = RanvierNet()
    load_torch_state_dict(by_name, net.state_dict())
    np.testing.assert_allclose(by_name(ranvier.tensor(x)).numpy(), want, rtol=1e-4, atol=1e-5)
    stacked = ranvier.Sequential(
        [
            layers.GRU(7, return_sequences=True, input_shape=(6, 5)),
            layers.GRU(7, return_sequences=True),
            layers.Dense(2),
        ]
    )
    one = TorchNet()
    one.gru = tnn.GRU(5, 7, batch_first=True)  # one torch layer per ranvier GRU, by order
    second = tnn.GRU(7, 7, batch_first=True)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(one.gru, f"{name}_l0").copy_(getattr(net.gru, f"{name}_l0"))
            getattr(second, f"{name}_l0").copy_(getattr(net.gru, f"{name}_l1"))
    sd = {
        **{f"a.{k}": v for k, v in one.gru.state_dict().items()},
        **{f"b.{k}": v for k, v in second.state_dict().items()},
    }
    sd.update({f"head.{k}": v for k, v in net.head.state_dict().items()})
    load_torch_state_dict(stacked, sd)
    np.testing.assert_allclose(ranvier_out(stacked, x), want, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"has reset_after=False; torch's GRU is reset_after=True"):
        model = ranvier.Sequential([layers.GRU(7, reset_after=False, input_shape=(6, 5))])
        load_torch_state_dict(model, one.gru.state_dict())


class TorchTokens(tnn.Module):
    def __init__(self):
        super().__init__()
        self.fc = tnn.Linear(6, 3)  # defined first: matching goes by name
        self.emb = tnn.Embedding(20, 8)
        self.attn = tnn.MultiheadAttention(8, 2, batch_first=True)
        self.norm = tnn.LayerNorm(8)
        self.lstm = tnn.LSTM(8, 6, num_layers=2, batch_first=True)

    def forward(self, ids):
        x = self.emb(ids)
        x = self.norm(x + self.attn(x, x, x)[0])
        return self.fc(self.lstm(x)[0][:, -1])


class RanvierTokens(rnn.Module):
    def __init__(self):
        super().__init__()
        self.emb = rnn.Embedding(20, 8)
        self.attn = rnn.MultiheadAttention(8, 2, batch_first=True)
        self.norm = rnn.LayerNorm(8)
        self.lstm = rnn.LSTM(8, 6, num_layers=2, batch_first=True)
        self.fc = rnn.Linear(6, 3)

    def forward(self, ids):
        x = self.emb(ids)
        x = self.norm(x + self.attn(x, x, x)[0])
        return self.fc(self.lstm(x)[0][:, -1])


def test_nn_module_by_name_embedding_attention_layernorm_stacked_lstm():
    torch.manual_seed(2)
    net = TorchTokens().eval()
    randomize(net.norm)
    model = RanvierTokens()
    load_torch_state_dict(model, net.state_dict())
    ids = np.random.default_rng(2).integers(0, 20, (3, 5))
    want = net(torch.from_numpy(ids)).detach().numpy()
    got = model(ranvier.tensor(ids)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_by_name_strict_names_both_sides_and_non_strict_returns_them():
    sd = TorchTokens().state_dict()
    del sd["fc.weight"], sd["fc.bias"]
    sd["extra.weight"] = torch.zeros(3, 3)
    model = RanvierTokens()
    with pytest.raises(ValueError, match=r"ranvier layers without a torch module \['fc'\], torch modules without a "):
        load_torch_state_dict(model, sd)
    before = model.fc.kernel.numpy().copy()
    assert load_torch_state_dict(model, sd, strict=False) == (["fc"], ["extra"])
    np.testing.assert_array_equal(model.fc.kernel.numpy(), before)
    np.testing.assert_array_equal(model.emb.embeddings.numpy(), sd["emb.weight"].numpy())


def test_mismatches_are_refused_naming_both_sides_before_any_copy():
    model = ranvier.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    kernel = model.layers[0].kernel.numpy().copy()
    with pytest.raises(ValueError, match=r"by order: ranvier has 2 layers with weights \[Dense .*torch 1 modules"):
        load_torch_state_dict(model, tnn.Sequential(tnn.Linear(3, 4)).state_dict())
    wrong_kind = tnn.Sequential(tnn.Linear(3, 4), tnn.Conv2d(4, 2, 1)).state_dict()
    wrong_kind["1.weight"] = wrong_kind["1.weight"][:, :, 0, 0]  # a conv kernel of a Linear's rank... and no bias
    del wrong_kind["1.bias"]
    with pytest.raises(ValueError, match=r"ranvier Dense '.*' against torch module '1': torch has \['weight'\]"):
        load_torch_state_dict(model, wrong_kind)
    with pytest.raises(ValueError, match=r"torch 'weight' \(5, 4\) converts to \(4, 5\), the ranvier weight is"):
        load_torch_state_dict(model, tnn.Sequential(tnn.Linear(3, 4), tnn.Linear(4, 5)).state_dict())
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), kernel)  # nothing copied


def test_a_gru_is_not_an_lstm():
    model = ranvier.Sequential([layers.LSTM(4, input_shape=(3, 2))])
    with pytest.raises(ValueError, match=r"torch 'weight_ih_l0' \(12, 2\) converts to \(2, 12\)"):
        load_torch_state_dict(model, tnn.GRU(2, 4, batch_first=True).state_dict())


def test_arguments_are_checked():
    model = ranvier.Sequential([layers.Dense(4, input_shape=(3,))])
    with pytest.raises(TypeError, match=r"state_dict must be a mapping.*pass module.state_dict\(\)"):
        load_torch_state_dict(model, tnn.Linear(3, 4))
    with pytest.raises(TypeError, match=r"'0.weight' must be a floating tensor, got int64"):
        load_torch_state_dict(model, {"0.weight": torch.zeros(4, 3, dtype=torch.int64)})
    unbuilt = ranvier.Sequential([layers.Dense(4)])
    with pytest.raises(ValueError, match=r"load_torch_state_dict: the layer has no weights yet"):
        load_torch_state_dict(unbuilt, tnn.Linear(3, 4).state_dict())


class _Sequences(tnn.Module):
    """Conv1d on (N, C, L), then batch-first recurrent layers, as a torch user writes it."""

    def __init__(self, rnn, **kwargs):
        super().__init__()
        self.conv = tnn.Conv1d(3, 4, 2)
        self.act = tnn.PReLU()
        self.rnn = rnn(4, 5, batch_first=True, bidirectional=True, **kwargs)
        self.head = tnn.Linear(10, 2)

    def forward(self, x):
        y = self.act(self.conv(x.transpose(1, 2))).transpose(1, 2)
        return self.head(self.rnn(y)[0])


@pytest.mark.parametrize(
    "torch_rnn, keras_rnn",
    [
        (tnn.LSTM, lambda: layers.LSTM(5, return_sequences=True)),
        (tnn.GRU, lambda: layers.GRU(5, return_sequences=True)),
        (tnn.RNN, lambda: layers.SimpleRNN(5, return_sequences=True)),
    ],
)
def test_conv1d_prelu_bidirectional_time_distributed_by_order(torch_rnn, keras_rnn):
    """Conv1d (out, in, k) -> Conv1D (k, in, out); PReLU's one slope spread over alpha; the _l0 and _l0_reverse
    keys to the Bidirectional's two layers; TimeDistributed(Dense) reads the Linear."""
    torch.manual_seed(0)
    net = _Sequences(torch_rnn).eval()
    randomize(net)
    model = ranvier.Sequential(
        [
            layers.Conv1D(4, 2, input_shape=(7, 3)),
            layers.PReLU(),
            layers.Bidirectional(keras_rnn()),
            layers.TimeDistributed(layers.Dense(2)),
        ]
    )
    assert load_torch_state_dict(model, net.state_dict()) == ([], [])
    x = np.random.default_rng(0).standard_normal((2, 7, 3)).astype(np.float32)
    expected = net(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ranvier_out(model, x), expected, atol=1e-5)


def test_conv_transpose_and_time_distributed_conv():
    torch.manual_seed(0)
    up = tnn.ConvTranspose2d(3, 2, (3, 2), stride=2)
    conv = tnn.Conv2d(2, 4, 3)
    randomize(up)
    randomize(conv)
    model = ranvier.Sequential([layers.Conv2DTranspose(2, (3, 2), strides=2, input_shape=(4, 5, 3))])
    load_torch_state_dict(model, up.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 3)).astype(np.float32)
    expected = up(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).detach().numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(ranvier_out(model, x), expected, atol=1e-5)
    frames = ranvier.Sequential([layers.TimeDistributed(layers.Conv2D(4, 3), input_shape=(3, 6, 5, 2))])
    load_torch_state_dict(frames, conv.state_dict())
    clip = np.random.default_rng(1).standard_normal((2, 3, 6, 5, 2)).astype(np.float32)
    flat = torch.from_numpy(clip.reshape(6, 6, 5, 2).transpose(0, 3, 1, 2).copy())
    expected = conv(flat).detach().numpy().transpose(0, 2, 3, 1).reshape(2, 3, 4, 3, 4)
    np.testing.assert_allclose(ranvier_out(frames, clip), expected, atol=1e-5)


def test_bidirectional_refusals_name_the_layer():
    net = tnn.LSTM(4, 5, batch_first=True, bidirectional=True)
    summed = ranvier.Sequential([layers.Bidirectional(layers.LSTM(5), merge_mode="sum", input_shape=(7, 4))])
    with pytest.raises(ValueError, match=r"Bidirectional .*concatenates.*merge_mode='sum'"):
        load_torch_state_dict(summed, net.state_dict())
    one_way = ranvier.Sequential([layers.Bidirectional(layers.LSTM(5), input_shape=(7, 4))])
    with pytest.raises(ValueError, match=r"torch has .*this layer takes"):
        load_torch_state_dict(one_way, tnn.LSTM(4, 5, batch_first=True).state_dict())

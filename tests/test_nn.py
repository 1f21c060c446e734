"""ranvier.nn (PyTorch's names), eager building, and the optimizer/loss guards of issue 18."""

import numpy as np
import pytest

import ranvier
import ranvier.nn as nn
from ranvier import functional as F
from ranvier import losses, optimizers
from ranvier.layers import LSTM, Conv2D, Dense, Flatten, TransformerEncoder

torch = pytest.importorskip("torch")


class Net(nn.Module):
    """The seed's PyTorch program, imports changed."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class TorchNet(torch.nn.Module):
    def __init__(self, net: Net):
        super().__init__()
        self.fc1, self.fc2 = torch.nn.Linear(784, 128), torch.nn.Linear(128, 10)
        with torch.no_grad():
            for mine, theirs in ((net.fc1, self.fc1), (net.fc2, self.fc2)):
                theirs.weight.copy_(torch.from_numpy(mine.kernel.numpy().T.copy()))
                theirs.bias.copy_(torch.from_numpy(mine.bias.numpy().copy()))

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def digits(n=64, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    centers = rng.standard_normal((10, 784)).astype(np.float32)
    return (centers[y] + 0.5 * rng.standard_normal((n, 784))).astype(np.float32), y


def test_seed_pytorch_program_matches_torch_one_step_and_learns():
    ranvier.utils.set_seed(0)
    model = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optimizers.Adam(model.parameters(), lr=1e-3)  # complete before any call
    assert len(optimizer.params) == 4
    reference = TorchNet(model)
    torch_opt = torch.optim.Adam(reference.parameters(), lr=1e-3, eps=1e-7)  # ranvier's Adam: Keras' epsilon
    x, y = digits()

    loss = criterion(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    torch_loss = torch.nn.CrossEntropyLoss()(reference(torch.from_numpy(x)), torch.from_numpy(y))
    torch_opt.zero_grad()
    torch_loss.backward()
    torch_opt.step()
    assert float(loss.numpy()) == pytest.approx(torch_loss.item(), rel=1e-5)
    for mine, theirs in ((model.fc1, reference.fc1), (model.fc2, reference.fc2)):
        np.testing.assert_allclose(mine.kernel.numpy(), theirs.weight.detach().numpy().T, atol=2e-6)
        np.testing.assert_allclose(mine.bias.numpy(), theirs.bias.detach().numpy(), atol=2e-6)

    first = float(loss.numpy())
    for _ in range(20):
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss.numpy()) < 0.2 * first


def test_named_parameters_train_eval_and_sequential():
    model = Net()
    assert [n for n, _ in model.named_parameters()] == ["fc1.kernel", "fc1.bias", "fc2.kernel", "fc2.bias"]
    assert model.fc1.kernel.shape == (784, 128)
    with pytest.raises(AttributeError, match="transpose"):
        model.fc1.weight  # noqa: B018  PyTorch's (out, in) would be the transpose
    assert model.eval() is model and not model.fc1.training
    model.train()
    seq = nn.Sequential(nn.Flatten(), nn.Linear(12, 4), nn.ReLU(), nn.Dropout(0.1), nn.Linear(4, 2))
    assert len(seq) == 5 and isinstance(seq[1], nn.Linear)
    assert [n for n, _ in seq.named_parameters()] == ["1.kernel", "1.bias", "4.kernel", "4.bias"]
    assert seq(np.ones((3, 2, 6), np.float32)).shape == (3, 2)


def test_conv2d_matches_torch_and_names_the_layout():
    ranvier.utils.set_seed(1)
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    assert [w.shape for w in conv.parameters()] == [(3, 3, 3, 5), (5,)]
    ref = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(conv.kernel.numpy().transpose(3, 2, 0, 1).copy()))
        ref.bias.copy_(torch.from_numpy(conv.bias.numpy()))
    x = np.random.default_rng(0).standard_normal((2, 7, 7, 3)).astype(np.float32)
    expected = ref(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).detach().numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(conv(x).numpy(), expected, atol=1e-5)
    with pytest.raises(ValueError, match=r"NHWC.*channels-first"):
        conv(x.transpose(0, 3, 1, 2))
    pooled = nn.MaxPool2d(2)(x)
    assert pooled.shape == (2, 3, 3, 3)
    with pytest.raises(ValueError, match="padding"):
        nn.AvgPool2d(2, padding=1)


def test_lstm_matches_torch_batch_first():
    ranvier.utils.set_seed(2)
    lstm = nn.LSTM(4, 6, num_layers=2, batch_first=True)
    ref = torch.nn.LSTM(4, 6, num_layers=2, batch_first=True)
    with torch.no_grad():
        for i, layer in enumerate(lstm.layers):
            getattr(ref, f"weight_ih_l{i}").copy_(torch.from_numpy(layer.kernel.numpy().T.copy()))
            getattr(ref, f"weight_hh_l{i}").copy_(torch.from_numpy(layer.recurrent_kernel.numpy().T.copy()))
            getattr(ref, f"bias_ih_l{i}").copy_(torch.from_numpy(layer.bias.numpy()))
            getattr(ref, f"bias_hh_l{i}").zero_()
    x = np.random.default_rng(0).standard_normal((3, 5, 4)).astype(np.float32)
    out, (h, c) = lstm(x)
    ref_out, (ref_h, ref_c) = ref(torch.from_numpy(x))
    for mine, theirs in ((out, ref_out), (h, ref_h), (c, ref_c)):
        np.testing.assert_allclose(mine.numpy(), theirs.detach().numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="batch_first=True"):
        nn.LSTM(4, 6)


def test_gru_matches_torch_batch_first():
    ranvier.utils.set_seed(2)
    gru = nn.GRU(4, 6, num_layers=2, batch_first=True)
    ref = torch.nn.GRU(4, 6, num_layers=2, batch_first=True)

    def to_torch(w):  # Keras' gate blocks (z, r, h) along the last axis -> torch's rows (r, z, n)
        z, r, h = np.split(w, 3, axis=-1)
        return torch.from_numpy(np.ascontiguousarray(np.concatenate([r, z, h], axis=-1).T))

    with torch.no_grad():
        for i, layer in enumerate(gru.layers):
            assert layer.bias.shape == (2, 18)  # b_ih and b_hh, as torch keeps them
            getattr(ref, f"weight_ih_l{i}").copy_(to_torch(layer.kernel.numpy()))
            getattr(ref, f"weight_hh_l{i}").copy_(to_torch(layer.recurrent_kernel.numpy()))
            getattr(ref, f"bias_ih_l{i}").copy_(to_torch(layer.bias.numpy()[0]))
            getattr(ref, f"bias_hh_l{i}").copy_(to_torch(layer.bias.numpy()[1]))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    h0 = rng.standard_normal((2, 3, 6)).astype(np.float32)
    out, h = gru(x, ranvier.tensor(h0))
    ref_out, ref_h = ref(torch.from_numpy(x), torch.from_numpy(h0))
    np.testing.assert_allclose(out.numpy(), ref_out.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(h.numpy(), ref_h.detach().numpy(), atol=1e-5)
    with pytest.raises(ValueError, match=r"\[GRU\] ranvier's recurrent kernels take batch-first"):
        nn.GRU(4, 6)
    with pytest.raises(ValueError, match=r"\[GRU\] bidirectional=True is not supported"):
        nn.GRU(4, 6, batch_first=True, bidirectional=True)


def test_attention_layernorm_embedding_shapes():
    x = np.random.default_rng(0).standard_normal((2, 3, 8)).astype(np.float32)
    attn = nn.MultiheadAttention(8, 2, batch_first=True)
    out, weights = attn(x, x, x, key_padding_mask=np.array([[False, False, True], [False, False, False]]))
    assert out.shape == (2, 3, 8) and weights is None
    norm = nn.LayerNorm(8)
    ref = torch.nn.LayerNorm(8)
    np.testing.assert_allclose(norm(x).numpy(), ref(torch.from_numpy(x)).detach().numpy(), atol=1e-5)
    emb = nn.Embedding(10, 4)
    assert emb.weight.shape == (10, 4) and emb(np.array([[1, 9]])).shape == (1, 2, 4)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_torch(reduction):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((5, 3)).astype(np.float32)
    probs = 1 / (1 + np.exp(-logits))
    targets = (rng.random((5, 3)) > 0.5).astype(np.float32)
    labels = rng.integers(0, 3, 5)
    t = torch.from_numpy
    cases = [
        (nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, logits, labels),
        (nn.MSELoss, torch.nn.MSELoss, logits, targets),
        (nn.BCELoss, torch.nn.BCELoss, probs, targets),
        (nn.BCEWithLogitsLoss, torch.nn.BCEWithLogitsLoss, logits, targets),
    ]
    for mine, theirs, inp, target in cases:
        got = mine(reduction=reduction)(ranvier.tensor(inp, requires_grad=True), target).numpy()
        np.testing.assert_allclose(got, theirs(reduction=reduction)(t(inp), t(target)).numpy(), rtol=1e-5, atol=1e-6)


def test_pytorch_order_loss_refuses_target_first():
    out = nn.Linear(3, 1)(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(input, target\)"):
        nn.MSELoss()(np.zeros((2, 1), np.float32), out)


def test_keras_order_loss_refuses_prediction_first():
    model = ranvier.Sequential([Dense(1, activation="sigmoid", input_dim=3)])
    pred, y = model(np.ones((4, 3), np.float32)), np.ones((4, 1), np.float32)
    with pytest.raises(ValueError, match=r"y_true, y_pred.*ranvier\.nn.*BCELoss"):
        losses.BinaryCrossentropy()(pred, y)
    assert losses.BinaryCrossentropy()(y, pred).requires_grad  # the right order still works


def test_layers_given_their_input_size_own_weights_at_construction():
    assert [w.shape for w in Dense(128, input_dim=784).parameters()] == [(784, 128), (128,)]
    assert [w.shape for w in Conv2D(4, 3, input_shape=(8, 8, 2)).parameters()] == [(3, 3, 2, 4), (4,)]
    assert len(LSTM(5, input_shape=(None, 3)).parameters()) == 3
    assert len(TransformerEncoder(2, 8, input_shape=(3, 4)).parameters()) == 16  # sublayers made in build
    assert Dense(4).parameters().unbuilt and not Dense(4, input_dim=2).parameters().unbuilt
    with pytest.raises(ValueError, match="not both"):
        Dense(4, input_dim=3, input_shape=(3,))


class KerasStyle(ranvier.Model):
    def __init__(self):
        super().__init__()
        self.fc1 = Dense(16, activation="relu", input_dim=8)
        self.fc2 = Dense(2)

    def call(self, x):
        return self.fc2(self.fc1(x))


def test_optimizer_over_unbuilt_layers_or_nothing_is_refused():
    model = KerasStyle()
    with pytest.raises(ValueError, match=r"Dense 'dense\S*'.*input_dim=784.*build_for"):
        optimizers.Adam(model.parameters(), lr=1e-3)
    with pytest.raises(ValueError, match="Dense"):
        optimizers.SGD(ranvier.Sequential([Flatten(), Dense(3)]).parameters())
    with pytest.raises(ValueError, match="empty parameter list"):
        optimizers.Adam([])
    model(np.ones((1, 8), np.float32))
    assert len(optimizers.Adam(model.parameters()).params) == 4
    assert optimizers.Adam(learning_rate=0.1).params == []  # Keras style: compile gives the parameters

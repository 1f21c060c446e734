"""ranvier.nn's convolutions, pools, resizing, padding and activation modules: PyTorch's outputs on the same
weights (loaded with load_torch_state_dict from the torch module's state_dict), and NumPy without torch."""

import numpy as np
import pytest

import ranvier
import ranvier.nn as nn
from ranvier.interop import load_torch_state_dict


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _nchw(x):
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def _nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def _ncl(x):
    return np.ascontiguousarray(x.transpose(0, 2, 1))


def _load(mine, theirs, torch):
    with torch.no_grad():  # weights away from both libraries' initial values
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape) * 0.5)
    load_torch_state_dict(mine, theirs.state_dict())


@pytest.mark.parametrize(
    "args, kwargs",
    [((3, 5, 3), {}), ((3, 4, 4), dict(stride=2, padding=2, dilation=2)), ((2, 3, 4), dict(padding="same"))],
)
def test_conv1d_matches_torch(args, kwargs, torch):
    mine, theirs = nn.Conv1d(*args, **kwargs), torch.nn.Conv1d(*args, **kwargs)
    _load(mine, theirs, torch)
    x = _x(2, 11, args[0])
    expected = theirs(torch.from_numpy(_ncl(x))).detach().numpy().transpose(0, 2, 1)
    np.testing.assert_allclose(mine(x).numpy(), expected, atol=1e-5)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((3, 4, 3), {}),
        ((3, 4, 3), dict(stride=2, padding=1, output_padding=1)),
        ((2, 3, (3, 2)), dict(stride=(3, 2), padding=(2, 0), output_padding=(1, 0), dilation=(1, 2))),
        ((2, 3, 1), dict(stride=3, bias=False)),
    ],
)
def test_conv_transpose2d_matches_torch(args, kwargs, torch):
    mine, theirs = nn.ConvTranspose2d(*args, **kwargs), torch.nn.ConvTranspose2d(*args, **kwargs)
    _load(mine, theirs, torch)
    x = _x(2, 5, 6, args[0])
    np.testing.assert_allclose(mine(x).numpy(), _nhwc(theirs(torch.from_numpy(_nchw(x)))), atol=1e-5)


def test_pools_resizing_and_padding_match_torch(torch):
    seq, img = _x(2, 9, 3), _x(2, 6, 7, 3)
    tseq, timg = torch.from_numpy(_ncl(seq)), torch.from_numpy(_nchw(img))
    for mine, theirs in [
        (nn.MaxPool1d(3, stride=2), torch.nn.MaxPool1d(3, stride=2)),
        (nn.AvgPool1d(2), torch.nn.AvgPool1d(2)),
    ]:
        np.testing.assert_allclose(mine(seq).numpy(), theirs(tseq).numpy().transpose(0, 2, 1), atol=1e-6)
    for mine, theirs in [
        (nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1)),
        (nn.AdaptiveMaxPool2d((1, 1)), torch.nn.AdaptiveMaxPool2d((1, 1))),
        (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
        (nn.Upsample(scale_factor=(2, 3), mode="bilinear"), torch.nn.Upsample(scale_factor=(2, 3), mode="bilinear")),
        (nn.ZeroPad2d(2), torch.nn.ZeroPad2d(2)),
        (nn.ZeroPad2d((1, 0, 3, 2)), torch.nn.ZeroPad2d((1, 0, 3, 2))),
    ]:
        np.testing.assert_allclose(mine(img).numpy(), _nhwc(theirs(timg)), atol=1e-5)


ACTIVATIONS = [
    ("LeakyReLU", (), {}),
    ("LeakyReLU", (0.2,), {}),
    ("ELU", (), {"alpha": 0.5}),
    ("SELU", (), {}),
    ("SiLU", (), {}),
    ("GELU", (), {}),
    ("Softplus", (), {}),
    ("Softsign", (), {}),
    ("Hardsigmoid", (), {}),
    ("Sigmoid", (), {}),
    ("Tanh", (), {}),
    ("Softmax", (), {"dim": 1}),
    ("Softmax", (), {"dim": -1}),
    ("Identity", (), {}),
]


@pytest.mark.parametrize("name, args, kwargs", ACTIVATIONS)
def test_activations_match_torch(name, args, kwargs, torch):
    x = _x(3, 4, 5) * 4
    expected = getattr(torch.nn, name)(*args, **kwargs)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(getattr(nn, name)(*args, **kwargs)(x).numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("count", [1, 4])
def test_prelu_matches_torch(count, torch):
    mine, theirs = nn.PReLU(count), torch.nn.PReLU(count)
    assert mine.weight.shape == (count,) and np.all(mine.weight.numpy() == 0.25)
    _load(mine, theirs, torch)
    x = _x(2, 3, 5, 4)  # torch's channels are axis 1: compare on the NCHW transpose
    np.testing.assert_allclose(mine(x).numpy(), _nhwc(theirs(torch.from_numpy(_nchw(x)))), atol=1e-6)


def test_a_torch_network_by_name(torch):
    class Mine(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.ConvTranspose2d(3, 4, 2, stride=2)
            self.act = nn.PReLU()
            self.conv = nn.Conv2d(4, 2, 3, padding=1)

        def forward(self, x):
            return self.conv(self.act(self.up(x)))

    theirs = torch.nn.Sequential()
    theirs.add_module("up", torch.nn.ConvTranspose2d(3, 4, 2, stride=2))
    theirs.add_module("act", torch.nn.PReLU())
    theirs.add_module("conv", torch.nn.Conv2d(4, 2, 3, padding=1))
    mine = Mine()
    _load(mine, theirs, torch)
    x = _x(2, 4, 5, 3)
    np.testing.assert_allclose(mine(x).numpy(), _nhwc(theirs(torch.from_numpy(_nchw(x)))), atol=1e-5)


# ---- without torch -------------------------------------------------------------------------------------
def test_conv1d_against_numpy():
    conv = nn.Conv1d(3, 2, 3, padding=1)
    assert conv.kernel.shape == (3, 3, 2)
    x = _x(2, 6, 3)
    padded = np.pad(x, ((0, 0), (1, 1), (0, 0)))
    w, b = conv.kernel.numpy(), conv.bias.numpy()
    expected = np.stack([np.einsum("nkc,kcf->nf", padded[:, t : t + 3], w) for t in range(6)], axis=1) + b
    np.testing.assert_allclose(conv(x).numpy(), expected, atol=1e-5)
    with pytest.raises(ValueError, match=r"Conv1d .*channels-first.*transpose\(0, 2, 1\)"):
        conv(_x(2, 3, 6))
    with pytest.raises(AttributeError, match="transpose"):
        conv.weight  # noqa: B018


def test_conv_transpose2d_against_numpy():
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)
    assert layer.kernel.shape == (3, 3, 3, 2)  # (kh, kw, out, in)
    x = _x(1, 3, 4, 2)
    w, b = layer.kernel.numpy(), layer.bias.numpy()
    full = np.zeros((1, 2 * 2 + 3 + 1, 3 * 2 + 3 + 1, 3), np.float32)  # every tap, plus output_padding
    for i in range(3):
        for j in range(4):
            full[0, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3] += np.einsum("c,hwfc->hwf", x[0, i, j], w)
    expected = full[:, 1:-1, 1:-1] + b  # torch's padding 1 off each border: (3-1)*2 - 2 + 3 + 1 = 6
    np.testing.assert_allclose(layer(x).numpy(), expected, atol=1e-5)
    with pytest.raises(ValueError, match=r"ConvTranspose2d.*output_padding must be less than stride"):
        nn.ConvTranspose2d(2, 3, 3, stride=1, output_padding=1, dilation=2)
    with pytest.raises(ValueError, match=r"ConvTranspose2d.*channels-first"):
        layer(_x(1, 2, 4, 5))


def test_activation_modules_against_numpy():
    x = np.array([[-3.0, -0.5, 0.0, 0.5, 3.0, np.nan]], np.float32)
    expected = {
        nn.LeakyReLU(): np.where(x > 0, x, 0.01 * x),
        nn.ELU(): np.where(x > 0, x, np.expm1(x)),
        nn.Sigmoid(): 1 / (1 + np.exp(-x)),
        nn.Tanh(): np.tanh(x),
        nn.SiLU(): x / (1 + np.exp(-x)),
        nn.Softsign(): x / (1 + np.abs(x)),
        nn.Softplus(): np.log1p(np.exp(x)),
        nn.Hardsigmoid(): np.clip(x / 6 + 0.5, 0, 1),
        nn.PReLU(): np.where(x > 0, x, 0.25 * x),
        nn.Identity(3, unused=True): x,
    }
    for module, want in expected.items():
        np.testing.assert_allclose(module(x).numpy(), want, rtol=1e-5, atol=1e-6, err_msg=type(module).__name__)
    column = x[0, :5].reshape(5, 1)
    probs = nn.Softmax(dim=0)(np.repeat(column, 2, axis=1)).numpy()
    np.testing.assert_allclose(probs[:, :1], np.exp(column) / np.exp(column).sum(), rtol=1e-5)


def test_pools_and_resizing_against_numpy():
    seq, img = _x(2, 7, 3), _x(2, 4, 5, 3)
    np.testing.assert_allclose(nn.MaxPool1d(2)(seq).numpy(), seq[:, :6].reshape(2, 3, 2, 3).max(axis=2))
    np.testing.assert_allclose(nn.AvgPool1d(3, 2)(seq).numpy()[:, 1], seq[:, 2:5].mean(axis=1), atol=1e-6)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(img).numpy(), img.mean(axis=(1, 2), keepdims=True), atol=1e-6)
    np.testing.assert_allclose(nn.AdaptiveMaxPool2d(1)(img).numpy(), img.max(axis=(1, 2), keepdims=True))
    np.testing.assert_allclose(nn.Upsample(scale_factor=2)(img).numpy(), img.repeat(2, axis=1).repeat(2, axis=2))
    padded = nn.ZeroPad2d((1, 2, 0, 3))(img).numpy()
    np.testing.assert_array_equal(padded, np.pad(img, ((0, 0), (0, 3), (1, 2), (0, 0))))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.AdaptiveAvgPool2d(2), r"\[AdaptiveAvgPool2d\] only output_size=1"),
        (lambda: nn.Upsample(size=(4, 4)), r"\[Upsample\] size=\(4, 4\) is not supported"),
        (lambda: nn.Upsample(scale_factor=1.5), r"\[Upsample\] scale_factor must be a whole number"),
        (lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), r"align_corners=False only"),
        (lambda: nn.Upsample(scale_factor=2, mode="bicubic"), r"\[Upsample\] mode must be"),
        (lambda: nn.Softmax(), r"\[Softmax\] dim must be an integer"),
        (lambda: nn.GELU(approximate="tanh"), r"\[GELU\] approximate='tanh' is not supported"),
        (lambda: nn.Softplus(beta=2), r"\[Softplus\] beta=2 is not supported"),
        (lambda: nn.Conv1d(2, 3, 3, groups=2), r"\[Conv1d\] groups=2 is not supported"),
        (lambda: nn.Conv1d(2, 3, 3, stride=2, padding="same"), r"\[Conv1d\] padding='same' needs stride 1"),
        (lambda: nn.ConvTranspose2d(2, 3, 3, padding="same"), r"\[ConvTranspose2d\] padding must be an int"),
        (lambda: nn.ZeroPad2d((1, 2)), r"\[ZeroPad2d\] padding must be an int or \(left, right, top, bottom\)"),
        (lambda: nn.MaxPool1d(2, padding=1), r"\[MaxPool1d\] padding=1 is not supported"),
    ],
)
def test_what_does_not_map_is_refused(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_prelu_per_channel_checks_the_last_axis():
    with pytest.raises(ValueError, match=r"PReLU '.*'\] has 4 slopes, one per channel on the last axis"):
        nn.PReLU(4)(_x(2, 4, 3))
    assert len(nn.PReLU(4).parameters()) == 1 and ranvier.nn.PReLU(4)(_x(2, 3, 4)).shape == (2, 3, 4)


def test_torch_layouts_convert_without_torch():
    """load_torch_state_dict takes NumPy arrays too: each new layer's torch layout lands transposed as documented."""
    rng = np.random.default_rng(3)
    model = ranvier.Sequential(
        [
            ranvier.layers.Conv1D(4, 2, input_shape=(7, 3)),
            ranvier.layers.PReLU(),
            ranvier.layers.Bidirectional(ranvier.layers.LSTM(5, return_sequences=True)),
            ranvier.layers.TimeDistributed(ranvier.layers.Dense(2)),
        ]
    )
    sd = {
        "conv.weight": rng.standard_normal((4, 3, 2)),
        "conv.bias": rng.standard_normal(4),
        "act.weight": np.array([0.3]),
        **{
            f"rnn.{w}_l0{s}": rng.standard_normal((20, 4 if w == "weight_ih" else 5))
            for w in ("weight_ih", "weight_hh")
            for s in ("", "_reverse")
        },
        **{f"rnn.{b}_l0{s}": rng.standard_normal(20) for b in ("bias_ih", "bias_hh") for s in ("", "_reverse")},
        "head.weight": rng.standard_normal((2, 10)),
        "head.bias": rng.standard_normal(2),
    }
    load_torch_state_dict(model, sd)
    conv, act, bi, td = model.layers
    np.testing.assert_allclose(conv.kernel.numpy(), sd["conv.weight"].transpose(2, 1, 0), rtol=1e-6)
    np.testing.assert_allclose(act.alpha.numpy(), np.full((6, 4), 0.3), rtol=1e-6)
    np.testing.assert_allclose(bi.backward_layer.kernel.numpy(), sd["rnn.weight_ih_l0_reverse"].T, rtol=1e-6)
    np.testing.assert_allclose(
        bi.forward_layer.bias.numpy(), sd["rnn.bias_ih_l0"] + sd["rnn.bias_hh_l0"], rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(td.layer.kernel.numpy(), sd["head.weight"].T, rtol=1e-6)
    up = ranvier.Sequential([ranvier.layers.Conv2DTranspose(2, (3, 2), input_shape=(4, 4, 5))])
    weight = rng.standard_normal((5, 2, 3, 2))  # torch's (in, out, kh, kw)
    load_torch_state_dict(up, {"weight": weight, "bias": np.zeros(2)})
    np.testing.assert_allclose(up.layers[0].kernel.numpy(), weight.transpose(2, 3, 1, 0), rtol=1e-6)

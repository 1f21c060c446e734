"""ranvier.activations and the layers over them (LeakyReLU, ELU, ReLU, Softmax, Activation, Lambda,
TimeDistributed, Dense/Conv2D with every activation name): against the NumPy reference everywhere,
against Keras 3 (torch backend) and PyTorch where they are installed."""

import os

import numpy as np
import pytest
from helpers import assert_close, f32, numerical_grad

import ranvier
from ranvier import activations, layers, reference
from ranvier import functional as F

NEW = ["leaky_relu", "elu", "selu", "silu", "softplus", "softsign", "hard_sigmoid", "exponential"]
ALL_NAMES = [*activations.NAMES]


def _keras():
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip(f"Keras runs on {keras.backend.backend()}, these comparisons use the torch backend")
    return keras


def _numpy(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


# ---- the registry ------------------------------------------------------------------------------------


def test_unknown_name_lists_every_name():
    with pytest.raises(ValueError) as e:
        activations.get("mish")
    for name in ALL_NAMES:
        assert name in str(e.value)
    with pytest.raises(ValueError, match="unknown activation 'leaky'"):
        layers.Dense(3, activation="leaky")


def test_every_name_has_a_function_over_tensors(rng):
    x = f32(rng, 4, 5, scale=3)
    for name in ALL_NAMES:
        y = activations.get(name)(ranvier.Tensor(x))
        assert y.shape == x.shape, name
    assert activations.swish is activations.silu and activations.get("swish") is activations.silu


@pytest.mark.parametrize("name", NEW)
def test_functions_with_keras_defaults_match_reference(name, rng):
    x = f32(rng, 3, 7, scale=3)
    got = getattr(activations, name)(ranvier.Tensor(x)).numpy()
    assert_close(got, getattr(reference, name)(x.astype(np.float64)), atol=1e-6, rtol=1e-5, what=name)


def test_relu_parameters_route_to_the_general_kernel(rng):
    x = f32(rng, 50, scale=4)
    assert_close(activations.relu(ranvier.Tensor(x)).numpy(), np.maximum(x, 0), atol=0, rtol=0)
    assert_close(activations.relu6(ranvier.Tensor(x * 3)).numpy(), np.clip(x * 3, 0, 6), atol=0, rtol=0)
    got = activations.relu(ranvier.Tensor(x), negative_slope=0.1, max_value=2.0, threshold=0.5).numpy()
    assert_close(got, reference.relu_general(x.astype(np.float64), 0.1, 2.0, 0.5), atol=1e-6, rtol=1e-6)
    with pytest.raises(ValueError, match=r"\[gelu\] approximate=True"):
        activations.gelu(ranvier.Tensor(x), approximate=True)


@pytest.mark.parametrize(
    "fn,params", [(F.leaky_relu, (0.3,)), (F.elu, (0.7,)), (F.relu_general, (0.2, 1.5, 0.25)), (F.silu, ())]
)
def test_functional_gradient_is_the_reference_derivative(fn, params, rng):
    x = f32(rng, 40, scale=3)
    x[np.abs(x) < 0.05] = 0.4
    x[np.abs(x - 0.25) < 0.05] = 0.4
    x[np.abs(x - 1.5) < 0.05] = 0.9
    t = ranvier.Tensor(x, requires_grad=True)
    dy = f32(rng, 40)
    (fn(t, *params) * ranvier.Tensor(dy)).sum().backward()
    ref = getattr(reference, fn.__name__.lstrip("_"))
    want = numerical_grad(lambda v: np.sum(ref(v, *params) * dy), x.astype(np.float64))
    assert_close(t.grad, want, atol=1e-5, rtol=1e-4, what=fn.__name__)


# ---- Dense and Conv2D with every activation name ----------------------------------------------------


@pytest.mark.parametrize("name", [*NEW, "swish", "relu6", "softmax"])
def test_dense_with_activation_matches_reference_and_its_gradient(name, rng):
    layer = layers.Dense(6, activation=name)
    x = f32(rng, 5, 4)
    t = ranvier.Tensor(x, requires_grad=True)
    y = layer(t)
    w, b = layer.kernel.numpy().astype(np.float64), layer.bias.numpy().astype(np.float64)
    z = x.astype(np.float64) @ w + b
    fn = {"swish": reference.silu, "relu6": lambda v: np.clip(v, 0, 6)}.get(name) or getattr(reference, name, None)
    if name == "softmax":
        fn = lambda v: (
            np.exp(v - v.max(-1, keepdims=True)) / np.exp(v - v.max(-1, keepdims=True)).sum(-1, keepdims=True)
        )  # noqa: E731
    assert_close(y.numpy(), fn(z), atol=1e-5, rtol=1e-5, what=name)
    dy = f32(rng, 5, 6)
    (y * ranvier.Tensor(dy)).sum().backward()
    want_dw = numerical_grad(lambda v: np.sum(fn(x.astype(np.float64) @ v + b) * dy), w)
    assert_close(layer.kernel.grad, want_dw, atol=1e-4, rtol=1e-4, what=f"{name} dw")
    want_dx = numerical_grad(lambda v: np.sum(fn(v @ w + b) * dy), x.astype(np.float64))
    assert_close(t.grad, want_dx, atol=1e-4, rtol=1e-4, what=f"{name} dx")


@pytest.mark.parametrize("name", NEW)
def test_conv2d_with_activation_matches_reference_and_its_gradient(name, rng):
    layer = layers.Conv2D(4, 3, padding="same", activation=name)
    x = f32(rng, 2, 5, 6, 3)
    y = layer(ranvier.Tensor(x))
    w, b = layer.kernel.numpy().astype(np.float64), layer.bias.numpy().astype(np.float64)
    x64 = x.astype(np.float64)
    assert_close(y.numpy(), reference.conv2d(x64, w, b, padding="same", activation=name), atol=1e-5, rtol=1e-5)
    dy = f32(rng, *y.shape)
    (y * ranvier.Tensor(dy)).sum().backward()
    z = reference.conv2d(x64, w, b, padding="same")
    _, dw, db = reference.conv2d_backward(
        dy.astype(np.float64),
        x64,
        w,
        padding="same",
        activation=name,
        y=reference.conv2d(x64, w, b, padding="same", activation=name),
        z=z,
    )
    assert_close(layer.kernel.grad, dw, atol=1e-4, rtol=1e-4, what=f"{name} dw")
    assert_close(layer.bias.grad, db, atol=1e-4, rtol=1e-4, what=f"{name} db")


# ---- the activation layers -----------------------------------------------------------------------------


def test_activation_layers_match_reference(rng):
    x = f32(rng, 3, 4, 5, scale=3)
    x64 = x.astype(np.float64)
    cases = [
        (layers.LeakyReLU(), reference.leaky_relu(x64, 0.3)),  # Keras 3's layer default is 0.3
        (layers.LeakyReLU(negative_slope=0.05), reference.leaky_relu(x64, 0.05)),
        (layers.ELU(), reference.elu(x64)),
        (layers.ELU(alpha=0.4), reference.elu(x64, 0.4)),
        (layers.ReLU(), np.maximum(x64, 0)),
        (layers.ReLU(max_value=6.0), np.clip(x64, 0, 6)),
        (layers.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.5), reference.relu_general(x64, 0.1, 1.0, 0.5)),
        (layers.Activation("selu"), reference.selu(x64)),
        (layers.Activation("swish"), reference.silu(x64)),
    ]
    for layer, want in cases:
        assert_close(layer(x).numpy(), want, atol=1e-6, rtol=1e-5, what=repr(layer))
    for axis in (-1, 1, 0):
        e = np.exp(x64 - x64.max(axis, keepdims=True))
        assert_close(layers.Softmax(axis=axis)(x).numpy(), e / e.sum(axis, keepdims=True), atol=1e-6, rtol=1e-5)


def test_activation_layer_arguments_are_checked():
    with pytest.raises(ValueError, match=r"\[LeakyReLU 'bad'\] negative_slope must be a number in \[0"):
        layers.LeakyReLU(-0.1, name="bad")
    with pytest.raises(ValueError, match=r"\[ReLU 'r'\] max_value must be"):
        layers.ReLU(max_value=-1, name="r")
    with pytest.raises(ValueError, match=r"\[ReLU 'r2'\] threshold must be"):
        layers.ReLU(threshold=-0.5, name="r2")
    with pytest.raises(TypeError, match=r"\[ELU 'e'\] alpha must be a number"):
        layers.ELU(alpha="1", name="e")
    with pytest.raises(TypeError, match=r"\[Softmax 's'\] axis must be an integer"):
        layers.Softmax(axis=1.0, name="s")


def test_activation_layers_save_and_load(tmp_path, rng):
    model = ranvier.Sequential(
        [
            layers.Dense(5, activation="selu", input_shape=(4,)),
            layers.LeakyReLU(0.1),
            layers.Dense(5, activation="swish"),
            layers.ELU(0.5),
            layers.ReLU(max_value=6.0, threshold=0.1),
            layers.Dense(3),
            layers.Softmax(),
        ]
    )
    x = f32(rng, 7, 4)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = ranvier.load_model(path)
    assert_close(loaded.predict(x), model.predict(x), atol=0, rtol=0)


# ---- Lambda ---------------------------------------------------------------------------------------------


def test_lambda_applies_its_function_with_gradients(rng):
    layer = layers.Lambda(lambda t, k: F.tanh(t) * k, arguments={"k": 2.0})
    x = f32(rng, 3, 4)
    t = ranvier.Tensor(x, requires_grad=True)
    y = layer(t)
    assert_close(y.numpy(), 2 * np.tanh(x.astype(np.float64)), atol=1e-6, rtol=1e-5)
    y.sum().backward()
    assert_close(t.grad, 2 * (1 - np.tanh(x.astype(np.float64)) ** 2), atol=1e-5, rtol=1e-5)
    with pytest.raises(TypeError, match=r"\[Lambda 'l'\] function must be callable"):
        layers.Lambda(3, name="l")


def test_a_model_with_a_lambda_refuses_to_save(tmp_path, rng):
    model = ranvier.Sequential([layers.Dense(3, input_shape=(4,)), layers.Lambda(F.relu, name="lam")])
    model(f32(rng, 2, 4))
    with pytest.raises(ValueError, match=r"\[save\] Lambda 'lam' holds a Python function.*save_weights"):
        model.save(tmp_path / "m.safetensors")
    model.save_weights(tmp_path / "w.safetensors")  # the weights still save
    with pytest.raises(ValueError, match=r"\[load_model\] a Lambda layer cannot be loaded"):
        layers.Lambda.from_config({"name": "x"})


# ---- TimeDistributed ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda: layers.Dense(4, activation="elu"), (3, 5, 6)),
        (lambda: layers.Conv2D(2, 3, padding="same", activation="silu"), (2, 4, 5, 6, 3)),
        (lambda: layers.Flatten(), (2, 3, 4, 5)),
    ],
)
def test_time_distributed_applies_the_layer_to_every_step(make, shape, rng):
    inner = make()
    td = layers.TimeDistributed(inner)
    x = f32(rng, *shape)
    t = ranvier.Tensor(x, requires_grad=True)
    y = td(t)
    steps = [inner(x[:, i]).numpy() for i in range(shape[1])]
    assert_close(y.numpy(), np.stack(steps, axis=1), atol=1e-6, rtol=1e-6)
    y.sum().backward()
    assert t.grad.shape == x.shape
    if inner.weights:  # shared weights: the gradient of the sum over steps
        grads = [np.array(w.grad) for w in inner.weights]
        for w in inner.weights:
            w.grad = None
        for i in range(shape[1]):
            inner(x[:, i]).sum().backward()
        for g, w in zip(grads, inner.weights):
            assert_close(g, w.grad, atol=1e-4, rtol=1e-5)


def test_time_distributed_checks_rank_and_saves(tmp_path, rng):
    with pytest.raises(ValueError, match=r"\[TimeDistributed 'td'\] expects inputs of shape \(batch, time, \.\.\.\)"):
        layers.TimeDistributed(layers.Dense(2), name="td")(f32(rng, 3, 4))
    with pytest.raises(TypeError, match=r"layer must be a Layer instance"):
        layers.TimeDistributed(F.relu)
    model = ranvier.Sequential(
        [layers.TimeDistributed(layers.Dense(3, activation="softplus"), input_shape=(5, 4)), layers.Flatten()]
    )
    x = f32(rng, 2, 5, 4)
    path = tmp_path / "td.safetensors"
    model.save(path)
    assert_close(ranvier.load_model(path).predict(x), model.predict(x), atol=0, rtol=0)


# ---- Keras 3 and PyTorch --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*NEW, "relu6", "swish"])
def test_functions_match_keras(name, rng):
    keras = _keras()
    x = f32(rng, 4, 33, scale=4)
    want = _numpy(getattr(keras.activations, name)(keras.ops.convert_to_tensor(x)))
    assert_close(getattr(activations, name)(ranvier.Tensor(x)).numpy(), want, atol=1e-6, rtol=1e-5, what=name)


@pytest.mark.parametrize("kwargs", [dict(negative_slope=0.1), dict(max_value=2.0, threshold=0.5), dict(max_value=6.0)])
def test_relu_parameters_match_keras(kwargs, rng):
    keras = _keras()
    x = f32(rng, 100, scale=4)
    want = _numpy(keras.activations.relu(keras.ops.convert_to_tensor(x), **kwargs))
    assert_close(activations.relu(ranvier.Tensor(x), **kwargs).numpy(), want, atol=1e-6, rtol=1e-6)
    assert_close(layers.ReLU(**kwargs)(x).numpy(), _numpy(keras.layers.ReLU(**kwargs)(x)), atol=1e-6, rtol=1e-6)


def test_layers_match_keras(rng):
    keras = _keras()
    x = f32(rng, 2, 3, 5, scale=3)
    pairs = [
        (layers.LeakyReLU(), keras.layers.LeakyReLU()),
        (layers.LeakyReLU(0.02), keras.layers.LeakyReLU(negative_slope=0.02)),
        (layers.ELU(), keras.layers.ELU()),
        (layers.ELU(0.3), keras.layers.ELU(alpha=0.3)),
        (layers.Softmax(axis=1), keras.layers.Softmax(axis=1)),
        (layers.Activation("hard_sigmoid"), keras.layers.Activation("hard_sigmoid")),
    ]
    for ours, theirs in pairs:
        assert_close(ours(x).numpy(), _numpy(theirs(x)), atol=1e-6, rtol=1e-5, what=type(ours).__name__)


@pytest.mark.parametrize("activation", ["silu", "elu", "selu", "leaky_relu", "softplus"])
def test_time_distributed_dense_matches_keras(activation, rng):
    keras = _keras()
    x = f32(rng, 2, 4, 6)
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(3, activation=activation))
    want = _numpy(theirs(x))
    ours = layers.TimeDistributed(layers.Dense(3, activation=activation))
    ours(x)
    ours.set_weights([_numpy(w) for w in theirs.weights])
    assert_close(ours(x).numpy(), want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "ours,theirs",
    [
        ("leaky_relu", lambda t, F_: F_.leaky_relu(t, 0.2)),
        ("elu", lambda t, F_: F_.elu(t)),
        ("selu", lambda t, F_: F_.selu(t)),
        ("silu", lambda t, F_: F_.silu(t)),
        ("softplus", lambda t, F_: F_.softplus(t)),
        ("softsign", lambda t, F_: F_.softsign(t)),
        ("hard_sigmoid", lambda t, F_: F_.hardsigmoid(t)),
    ],
)
def test_forward_and_gradient_match_torch(ours, theirs, rng):
    torch = pytest.importorskip("torch")
    x = f32(rng, 1001, scale=4)
    x[np.abs(np.abs(x) - 3) < 1e-3] = 1.0  # hard_sigmoid's kinks
    dy = f32(rng, 1001)
    t = torch.tensor(x, requires_grad=True)
    y_torch = theirs(t, torch.nn.functional)
    (y_torch * torch.tensor(dy)).sum().backward()
    r = ranvier.Tensor(x, requires_grad=True)
    y = getattr(F, ours)(r)
    (y * ranvier.Tensor(dy)).sum().backward()
    assert_close(y.numpy(), y_torch.detach().numpy(), atol=1e-6, rtol=1e-5, what=ours)
    assert_close(r.grad, t.grad.numpy(), atol=1e-6, rtol=1e-5, what=f"d{ours}")


@pytest.mark.parametrize("name", ["gelu", "silu", "softplus", "softsign"])
def test_inference_fuses_what_training_keeps_z_for(name, rng):
    """Without a gradient to record, Dense and Conv2D take the fused epilogue; with one they keep z: same values."""
    x = f32(rng, 2, 6, 5, 3)
    for layer in (layers.Dense(4, activation=name), layers.Conv2D(4, 3, activation=name)):
        trained = layer(ranvier.Tensor(x, requires_grad=True))
        assert trained.requires_grad
        with ranvier.no_grad():
            inferred = layer(x)
        assert_close(inferred.numpy(), trained.numpy(), atol=1e-6, rtol=1e-5, what=f"{type(layer).__name__} {name}")


def test_prelu_learns_alpha_per_unshared_axis(rng):
    layer = layers.PReLU(shared_axes=[1, 2])
    x = f32(rng, 2, 3, 4, 5)
    layer(x)
    assert layer.alpha.shape == (1, 1, 5) and np.all(layer.alpha.numpy() == 0)  # Keras: zeros
    alpha = f32(rng, 1, 1, 5)
    layer.set_weights([alpha])
    t = ranvier.Tensor(x, requires_grad=True)
    y = layer(t)
    x64 = x.astype(np.float64)
    assert_close(y.numpy(), np.where(x64 > 0, x64, alpha * x64), atol=1e-6, rtol=1e-6)
    dy = f32(rng, *x.shape)
    (y * ranvier.Tensor(dy)).sum().backward()
    assert_close(
        layer.alpha.grad, np.sum(np.minimum(x64, 0) * dy, axis=(0, 1, 2), keepdims=True)[0], atol=1e-5, rtol=1e-5
    )
    assert_close(t.grad, np.where(x64 > 0, 1.0, alpha) * dy, atol=1e-6, rtol=1e-6)
    with pytest.raises(ValueError, match=r"\[PReLU 'p'\] shared_axes entry 4 is beyond"):
        layers.PReLU(shared_axes=4, name="p")(f32(rng, 2, 3, 4))


def test_prelu_matches_keras(rng):
    keras = _keras()
    x = f32(rng, 2, 3, 4, scale=2)
    theirs = keras.layers.PReLU(shared_axes=[1])
    theirs(x)
    alpha = f32(rng, 1, 4)
    theirs.set_weights([alpha])
    ours = layers.PReLU(shared_axes=[1])
    ours(x)
    ours.set_weights([_numpy(theirs.weights[0].value)])
    assert_close(ours(x).numpy(), _numpy(theirs(x)), atol=1e-6, rtol=1e-6)

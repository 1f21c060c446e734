"""state_dict / load_state_dict for models and optimizers, ranvier.save / ranvier.load, resuming training."""

import json

import numpy as np
import pytest

import ranvier
from ranvier import layers, optimizers


def _mlp(seed: int):
    """The same small network, its weights drawn from ``seed``."""
    model = ranvier.Sequential([layers.Dense(5, activation="relu"), layers.Dense(2)])
    model(np.zeros((1, 3), np.float32))
    rng = np.random.default_rng(seed)
    model.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in model.weights])
    return model


class _Net(ranvier.Model):
    def __init__(self):
        super().__init__()
        self.fc1 = layers.Dense(4, activation="relu")
        self.fc2 = layers.Dense(2)

    def call(self, x):
        return self.fc2(self.fc1(x))


def test_state_dict_names_are_attribute_paths_equal_across_instances():
    net = _Net()
    net(np.zeros((1, 3), np.float32))
    assert list(net.state_dict()) == ["fc1/kernel", "fc1/bias", "fc2/kernel", "fc2/bias"]
    assert (
        list(_mlp(0).state_dict())
        == list(_mlp(1).state_dict())
        == [
            "layers/0/kernel",
            "layers/0/bias",
            "layers/1/kernel",
            "layers/1/bias",
        ]
    )
    sd = net.state_dict()
    assert np.shares_memory(sd["fc1/kernel"].data, net.fc1.kernel.data) and not sd["fc1/kernel"].requires_grad


def test_load_state_dict_copies_weights_and_outputs_match():
    a, b = _mlp(0), _mlp(1)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    assert not np.allclose(a(x).numpy(), b(x).numpy())
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    # NumPy arrays and PyTorch tensors load too
    torch = pytest.importorskip("torch")
    b.load_state_dict({k: torch.from_dlpack(v) * 0 for k, v in a.state_dict().items()})
    assert not b(x).numpy().any()


def test_load_state_dict_strict_names_missing_unexpected_and_shape_mismatch():
    model = _mlp(0)
    sd = dict(model.state_dict())
    del sd["layers/1/bias"]
    sd["extra"] = np.zeros(2, np.float32)
    with pytest.raises(ValueError, match=r"missing keys \['layers/1/bias'\], unexpected keys \['extra'\]"):
        model.load_state_dict(sd)
    before = model.get_weights()
    sd["layers/0/kernel"] = np.ones((3, 5), np.float32)
    result = model.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["layers/1/bias"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), np.ones((3, 5)))
    np.testing.assert_array_equal(model.layers[1].bias.numpy(), before[3])
    sd["layers/0/bias"] = np.ones(4, np.float32)
    with pytest.raises(ValueError, match=r"'layers/0/bias' has shape \(4,\), the weight \(5,\)"):
        model.load_state_dict(sd, strict=False)
    with pytest.raises(TypeError, match=r"'layers/0/bias' must be a floating array, got int64"):
        model.load_state_dict({**sd, "layers/0/bias": np.ones(5, np.int64)}, strict=False)
    np.testing.assert_array_equal(model.layers[0].bias.numpy(), before[1])  # nothing copied on a refusal


def test_state_dict_of_an_unbuilt_model_says_how_to_build_it():
    with pytest.raises(ValueError, match=r"state_dict: the layer has no weights yet; build it first"):
        ranvier.Sequential([layers.Dense(2)]).state_dict()


def _train(model, opt, x, y, steps: int):
    loss_fn = ranvier.losses.MeanSquaredError()
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(y, model(x)).backward()
        opt.step()


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda p: optimizers.Adam(p, lr=0.01),
        lambda p: optimizers.SGD(p, lr=0.05, momentum=0.9),
        lambda p: optimizers.RMSprop(p, centered=True, momentum=0.5),
    ],
)
def test_resuming_from_saved_model_and_optimizer_equals_training_straight_through(tmp_path, make_opt):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 3)).astype(np.float32), rng.standard_normal((8, 2)).astype(np.float32)
    straight = _mlp(0)
    opt = make_opt(straight.parameters())
    _train(straight, opt, x, y, 6)

    first = _mlp(0)
    opt = make_opt(first.parameters())
    _train(first, opt, x, y, 3)
    ranvier.save({"model": first.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "ckpt.safetensors")

    resumed = _mlp(7)  # other initial weights: everything must come from the file
    resumed_opt = make_opt(resumed.parameters())
    resumed_opt.lr = 123.0  # the file's hyperparameters win, as PyTorch's param_groups
    checkpoint = ranvier.load(tmp_path / "ckpt.safetensors")
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    assert resumed_opt.iterations == 3
    _train(resumed, resumed_opt, x, y, 3)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_optimizer_load_state_dict_checks_before_changing_anything():
    model = _mlp(0)
    opt = optimizers.Adam(model.parameters())
    _train(model, opt, np.ones((2, 3), np.float32), np.ones((2, 2), np.float32), 1)
    sd = opt.state_dict()
    assert sd["iterations"] == 1 and set(sd["state"][0]) == {"m", "v"}
    with pytest.raises(ValueError, match=r"\[SGD\] load_state_dict: the state is of a Adam"):
        optimizers.SGD(model.parameters()).load_state_dict(sd)
    other = optimizers.Adam(_mlp(1).layers[0].trainable_weights)
    with pytest.raises(ValueError, match=r"state for parameter 2, the optimizer has 2"):
        other.load_state_dict(sd)
    bad = {**sd, "state": {0: {"m": np.zeros((2, 2), np.float32)}}}
    with pytest.raises(
        ValueError, match=r"slot 'm' of parameter 0 is float32 \(2, 2\), the parameter float32 \(3, 5\)"
    ):
        opt.load_state_dict(bad)
    assert opt.iterations == 1 and opt._state  # unchanged


def test_save_load_round_trips_trees_of_arrays_and_json_values(tmp_path):
    obj = {
        "t": ranvier.tensor([1.0, 2.0]),
        "a": np.arange(6, dtype=np.int32).reshape(2, 3),
        "nested": {3: [np.float64(0.5), None, True, "x", (1, np.ones(2, np.bool_))]},
    }
    path = tmp_path / "state.safetensors"
    ranvier.save(obj, path)
    back = ranvier.load(path)
    assert isinstance(back["t"], ranvier.Tensor) and back["t"].tolist() == [1.0, 2.0]
    assert back["a"].dtype == np.int32 and back["a"].tolist() == obj["a"].tolist()
    nested = back["nested"][3]
    assert nested[:4] == [0.5, None, True, "x"] and isinstance(nested[4], tuple) and nested[4][1].dtype == bool


def test_save_refuses_objects_it_would_have_to_pickle(tmp_path):
    with pytest.raises(TypeError, match=r"\[save\] obj\['f'\] is a function: ranvier.save stores Tensors"):
        ranvier.save({"f": lambda: 0}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match=r"must end in .safetensors"):
        ranvier.save({}, tmp_path / "x.pt")


def test_load_refuses_edited_or_foreign_files(tmp_path):
    from safetensors.numpy import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": np.zeros(2, np.float32)}, str(foreign))
    with pytest.raises(ValueError, match=r"was not written by ranvier.save"):
        ranvier.load(foreign)
    dangling = tmp_path / "dangling.safetensors"
    tree = json.dumps({"dict": [["w", {"tensor": "9"}]]})
    save_file({"0": np.zeros(2, np.float32)}, str(dangling), metadata={"format": "ranvier.state/1", "tree": tree})
    with pytest.raises(ValueError, match=r"refers to a tensor '9' the file does not hold"):
        ranvier.load(dangling)
    path = tmp_path / "ok.safetensors"
    ranvier.save({"w": np.zeros(4, np.float32)}, path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x40  # flip a bit of the tensor's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"do not match the SHA-256"):
        ranvier.load(path)

"""Files that cannot lie: hostile or corrupt safetensors files are refused with errors naming the layer and
key; saves are atomic, honour the umask and say what formats exist; load_model restores the compile state."""

import json
import os

import numpy as np
import pytest

import ranvier
from ranvier import optimizers, saving
from ranvier.layers import (
    LSTM,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Layer,
    MultiHeadAttention,
    Reshape,
    TransformerEncoder,
)


def small_model(units=4, name="hidden"):
    ranvier.utils.set_seed(3)
    return ranvier.Sequential([Dense(units, activation="relu", input_shape=(3,), name=name), Dense(2, name="out")])


def read_header(path):
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def rewrite_header(path, edit):
    """Apply ``edit`` to the file's JSON header (tensors and __metadata__), keeping the data bytes."""
    header, body = read_header(path)
    edit(header)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + body)


def edit_metadata(path, key, edit):
    def change(header):
        meta = header["__metadata__"]
        meta[key] = json.dumps(edit(json.loads(meta[key])))

    rewrite_header(path, change)


def saved(tmp_path, model=None, name="model.safetensors"):
    model = model or small_model()
    path = tmp_path / name
    model.save(path)
    return path


# ---- weights: dtype, shape, integrity ----------------------------------------------------------------


@pytest.mark.parametrize("keep_hash", [True, False])
def test_a_tensor_relabelled_to_another_dtype_is_refused_naming_layer_and_key(tmp_path, keep_hash):
    model = small_model()
    path = tmp_path / "w.safetensors"
    model.save_weights(path)

    def relabel(header):
        [kernel] = [k for k in header if k.startswith("00000:")]
        header[kernel]["dtype"] = "I32"
        if not keep_hash:
            del header["__metadata__"]["sha256"]

    rewrite_header(path, relabel)
    with pytest.raises(TypeError, match=r"layer '.*hidden': weight '.*hidden/kernel' is float32, .*'00000:.*' is I32"):
        small_model().load_weights(path)


def test_a_flipped_byte_is_refused_by_the_sha256(tmp_path):
    path = saved(tmp_path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="do not match the SHA-256 saved with them"):
        ranvier.load_model(path)
    with pytest.raises(ValueError, match="do not match the SHA-256"):
        small_model().load_weights(path)


def test_files_without_a_hash_still_load(tmp_path):
    model = small_model()
    path = tmp_path / "w.safetensors"
    model.save_weights(path)
    rewrite_header(path, lambda h: h["__metadata__"].pop("sha256"))
    fresh = small_model()
    fresh.set_weights([w * 0 for w in fresh.get_weights()])
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh.predict(np.ones((2, 3))), model.predict(np.ones((2, 3))))


def test_not_a_safetensors_file_is_named(tmp_path):
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(b"\xff" * 64)
    with pytest.raises(ValueError, match="garbage.safetensors is not a readable safetensors file"):
        ranvier.load_model(path)


# ---- architecture: closed registry, typed arguments, size cap, depth, missing keys ------------------------


class Doubler(Layer):
    """A user layer: loadable only through custom_objects."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@pytest.mark.parametrize("class_name", ["__class__", "np", "Tensor", "Layer", "Model", "_Recurrent", "Doubler", 3])
def test_only_ranvier_layers_or_custom_objects_are_built(tmp_path, class_name):
    path = saved(tmp_path)
    edit_metadata(path, "model", lambda m: {**m, "config": {**m["config"], "layers": [
        {"class_name": class_name, "config": {}}, *m["config"]["layers"]]}})  # fmt: skip
    with pytest.raises(ValueError, match=r"\[load_model\] unknown layer class .*custom_objects"):
        ranvier.load_model(path)


def test_a_custom_layer_round_trips_through_custom_objects(tmp_path):
    ranvier.utils.set_seed(1)
    model = ranvier.Sequential([Dense(3, input_shape=(2,)), Doubler(3.0, name="triple")])
    path = saved(tmp_path, model)
    loaded = ranvier.load_model(path, custom_objects={"Doubler": Doubler})
    assert loaded.layers[1].factor == 3.0
    np.testing.assert_array_equal(loaded.predict(np.ones((2, 2))), model.predict(np.ones((2, 2))))
    with pytest.raises(TypeError, match=r"custom_objects\['Doubler'\] must be a Layer subclass"):
        ranvier.load_model(path, custom_objects={"Doubler": print})


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: Dense("8"), TypeError, r"\[Dense\] units must be an integer in \[1, 2147483647\], got '8'"),
        (lambda: Dense(8.7), TypeError, r"\[Dense\] units must be an integer"),
        (lambda: Dense(True), TypeError, r"\[Dense\] units must be an integer"),
        (lambda: Dense(0), ValueError, r"\[Dense\] units must be an integer in \[1, "),
        (lambda: Dense(2**40), ValueError, r"\[Dense\] units must be an integer in \[1, 2147483647\]"),
        (lambda: Dense(4, use_bias="yes"), TypeError, r"\[Dense\] use_bias must be True or False"),
        (lambda: Dense(4, activation=["relu"]), TypeError, r"\[Dense\] activation must be a name"),
        (lambda: Dense(4, name=7), TypeError, r"\[Dense\] name must be a string"),
        (lambda: Dense(4, input_shape=("3",)), TypeError, r"\[Dense\] input_shape entry must be an integer"),
        (lambda: Conv2D(4, 2.5), TypeError, r"\[Conv2D\] kernel_size must be an integer"),
        (lambda: Conv2D(4, (3, True)), TypeError, r"\[Conv2D\] kernel_size must be an integer"),
        (lambda: Embedding("3", 4), TypeError, r"\[Embedding\] input_dim must be an integer"),
        (lambda: LSTM(2.0), TypeError, r"\[LSTM\] units must be an integer"),
        (lambda: LSTM(2, return_sequences=1), TypeError, r"\[LSTM\] return_sequences must be True or False"),
        (lambda: Dropout("0.5"), TypeError, r"\[Dropout\] rate must be a number"),
        (lambda: Dropout(float("nan")), ValueError, r"\[Dropout\] rate must be a number in \[0.0, 1.0\]"),
        (lambda: MultiHeadAttention(2, "4"), TypeError, r"\[MultiHeadAttention\] key_dim must be an integer"),
        (lambda: BatchNormalization(momentum="x"), TypeError, r"\[BatchNormalization\] momentum must be a number"),
        (lambda: TransformerEncoder(2, 8.5), TypeError, r"\[TransformerEncoder\] intermediate_dim must be an integer"),
        (lambda: Reshape("abc"), TypeError, r"\[Reshape\] target_shape must be a tuple"),
    ],
)
def test_layer_arguments_are_typed_and_bounded(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_numpy_integers_are_accepted():
    assert Dense(np.int64(8)).units == 8 and Reshape((np.int32(2), -1)).target_shape == (2, -1)


@pytest.mark.parametrize("units, error", [("8", TypeError), (8.7, TypeError), (-1, ValueError)])
def test_a_file_with_bad_layer_arguments_names_the_layer(tmp_path, units, error):
    path = saved(tmp_path)
    edit_metadata(path, "model", lambda m: m | {"config": m["config"] | {"layers": [
        {"class_name": "Dense", "config": {"name": "hidden", "units": units}}, m["config"]["layers"][1]]}})  # fmt: skip
    with pytest.raises(error, match=r"\[load_model\] Dense 'hidden': \[Dense\] units must be an integer"):
        ranvier.load_model(path)


def test_a_small_file_declaring_a_huge_layer_is_refused_before_allocating(tmp_path):
    path = saved(tmp_path)
    assert path.stat().st_size < 2048
    edit_metadata(path, "model", lambda m: m | {"config": m["config"] | {"layers": [
        {"class_name": "Dense", "config": {"name": "hidden", "units": 40000}}, m["config"]["layers"][1]]}})  # fmt: skip
    edit_metadata(path, "input_shape", lambda s: [40000])
    with pytest.raises(ValueError, match=r"Dense 'hidden'\] weight 'kernel' of shape \(40000, 40000\).*goes beyond"):
        ranvier.load_model(path)


def test_max_params_caps_what_a_file_may_declare(tmp_path):
    path = saved(tmp_path)  # 3*4 + 4 + 4*2 + 2 = 26 parameters
    with pytest.raises(ValueError, match=r"declares 26 parameters, more than max_params=25; pass a larger max_params"):
        ranvier.load_model(path, max_params=25)
    assert ranvier.load_model(path, max_params=26).count_params() == 26
    with pytest.raises(TypeError, match=r"\[load_model\] max_params must be an integer"):
        ranvier.load_model(path, max_params=1e9)


def test_input_shape_in_the_file_is_checked(tmp_path):
    path = saved(tmp_path)
    edit_metadata(path, "input_shape", lambda s: [10**6, 10**6])
    with pytest.raises(ValueError, match=r"input_shape \(1000000, 1000000\) holds more than max_params"):
        ranvier.load_model(path)
    edit_metadata(path, "input_shape", lambda s: ["3"])
    with pytest.raises(TypeError, match=r"\[load_model\] input_shape entry must be an integer"):
        ranvier.load_model(path)


@pytest.mark.parametrize("depth", [300, 5000])
def test_deep_nesting_is_a_clear_error_not_a_recursion_error(tmp_path, depth):
    path = saved(tmp_path)
    nested = '{"class_name": "Sequential", "config": {"name": "s", "layers": [' * depth
    spec = nested + '{"class_name": "Dense", "config": {"units": 2}}' + "]}}" * depth
    rewrite_header(path, lambda h: h["__metadata__"].update(model=spec))
    with pytest.raises(ValueError, match="'model' is nested more than 100 levels deep"):
        ranvier.load_model(path)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m: m | {"config": {"name": "seq"}}, r"Sequential 'seq': its config has no key 'layers'"),
        (
            lambda m: m | {"config": m["config"] | {"layers": [{"class_name": "Dense", "config": {"name": "d"}}]}},
            r"Dense 'd': .*missing 1 required positional argument: 'units'",
        ),
        (lambda m: m | {"config": m["config"] | {"layers": [{"class_name": "Dense"}]}}, r"a layer must be"),
        (
            lambda m: m | {"config": m["config"] | {"layers": [{"class_name": "Flatten", "config": {"bad": 1}}]}},
            r"Flatten '\(unnamed\)': \[Flatten\] unexpected argument\(s\): bad",
        ),
    ],
)
def test_missing_or_unknown_keys_name_the_layer_and_key(tmp_path, edit, message):
    path = saved(tmp_path)
    edit_metadata(path, "model", edit)
    with pytest.raises((TypeError, ValueError), match=message):
        ranvier.load_model(path)


def test_missing_metadata_entries_are_named(tmp_path):
    path = saved(tmp_path)
    rewrite_header(path, lambda h: h["__metadata__"].pop("input_shape"))
    with pytest.raises(ValueError, match="the metadata has no 'input_shape' entry"):
        ranvier.load_model(path)


# ---- writing --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["model.keras", "model.h5", "model", "model.safetensors.tmp"])
def test_only_safetensors_names_are_written(tmp_path, name):
    model = small_model()
    with pytest.raises(ValueError, match=r"\[save\] ranvier writes safetensors files only.*\.safetensors"):
        model.save(tmp_path / name)
    with pytest.raises(ValueError, match=r"\[save_weights\] ranvier writes safetensors files only"):
        model.save_weights(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError])
def test_a_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, failure):
    path = saved(tmp_path)
    before = path.read_bytes()

    def interrupted(src, dst):
        assert os.path.dirname(src) == os.path.dirname(dst)  # the temporary is beside the target
        raise failure("interrupted")

    monkeypatch.setattr(saving.os, "replace", interrupted)
    with pytest.raises(failure):
        small_model(units=5).save(path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name] and path.read_bytes() == before


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_saved_files_honour_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = saved(tmp_path)
        small_model().save_weights(tmp_path / "w.safetensors")
    finally:
        os.umask(old)
    for p in (path, tmp_path / "w.safetensors"):
        assert p.stat().st_mode & 0o777 == 0o666 & ~umask


class Scaled(Layer):
    """A user layer with an argument and no get_config."""

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor


class Subclassed(ranvier.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = Dense(2)

    def call(self, x):
        return self.dense(x)


def test_a_model_that_cannot_be_rebuilt_refuses_to_save(tmp_path):
    model = Subclassed()
    model.build_for((3,))
    with pytest.raises(ValueError, match=r"\[save\] Subclassed '.*' cannot be rebuilt.*get_config.*save_weights"):
        model.save(tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []
    model.save_weights(tmp_path / "w.safetensors")  # its weights save fine
    inner = ranvier.Sequential([Dense(2, input_shape=(3,)), Scaled(2.0)])
    with pytest.raises(ValueError, match=r"\[save\] Scaled '.*' cannot be rebuilt"):
        inner.save(tmp_path / "m.safetensors")


def test_a_config_that_is_not_json_is_refused(tmp_path):
    model = ranvier.Sequential([Dense(2, activation=lambda x: x, input_shape=(3,))])
    with pytest.raises(ValueError, match=r"\[save\] model '.*': its configuration is not JSON"):
        model.save(tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


# ---- compile state ---------------------------------------------------------------------------------------------


def classification_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48, 3)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: optimizers.Adam(learning_rate=3e-3, beta_1=0.8),
        lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
        lambda: optimizers.RMSprop(learning_rate=1e-3, momentum=0.5, centered=True),
        lambda: optimizers.AdamW(learning_rate=1e-3, weight_decay=0.01),
    ],
)
def test_load_model_restores_compile_and_optimizer_state(tmp_path, optimizer):
    x, y = classification_data()
    model = small_model()
    model.compile(optimizer=optimizer(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    path = saved(tmp_path, model)
    loaded = ranvier.load_model(path)
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 6
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)  # training resumes where it stopped
    loaded.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_loss_config_is_restored(tmp_path):
    model = small_model()
    model.compile(optimizer="sgd", loss=ranvier.losses.BinaryCrossentropy(from_logits=True, reduction="sum"))
    loaded = ranvier.load_model(saved(tmp_path, model))
    assert loaded.loss.from_logits is True and loaded.loss.reduction == "sum"


def test_an_uncompiled_model_loads_uncompiled(tmp_path):
    loaded = ranvier.load_model(saved(tmp_path))
    assert loaded.optimizer is None and loaded.loss is None


def test_custom_loss_and_metric_come_from_custom_objects(tmp_path):
    def doubled_mse(y_true, y_pred):
        return ranvier.losses.MeanSquaredError()(y_true, y_pred) * 2

    def max_error(y_true, y_pred):
        return float(np.max(np.abs(y_pred - y_true)))

    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    model = small_model()
    model.compile(optimizer="adam", loss=doubled_mse, metrics=[max_error])
    path = saved(tmp_path, model)
    with pytest.raises(ValueError, match=r"compiled with the loss function 'doubled_mse'.*compile=False"):
        ranvier.load_model(path)
    assert ranvier.load_model(path, compile=False).loss is None
    loaded = ranvier.load_model(path, custom_objects={"doubled_mse": doubled_mse, "max_error": max_error})
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


@pytest.mark.parametrize(
    "edit, error, message",
    [
        (lambda c: c | {"optimizer": {"class_name": "os", "config": {}}}, ValueError, r"unknown optimizer 'os'"),
        (
            lambda c: c | {"optimizer": c["optimizer"] | {"config": {"learning_rate": "0.1"}}},
            ValueError,
            r"optimizer Adam argument .learning_rate. must be a bool or finite number",
        ),
        (
            lambda c: c | {"optimizer": c["optimizer"] | {"config": {"lr_typo": 0.1}}},
            TypeError,
            r"optimizer Adam: .*lr_typo",
        ),
        (lambda c: c | {"loss": {"class_name": "Loss", "config": {}}}, ValueError, r"unknown loss 'Loss'"),
        (lambda c: c | {"metrics": "accuracy"}, ValueError, r"'metrics' must be a list"),
    ],
)
def test_a_bad_compile_state_is_named(tmp_path, edit, error, message):
    model = small_model()
    model.compile(optimizer="adam", loss="mse")
    path = saved(tmp_path, model)
    edit_metadata(path, "compile", edit)
    with pytest.raises(error, match=message):
        ranvier.load_model(path)
    assert ranvier.load_model(path, compile=False).optimizer is None


def test_an_optimizer_slot_of_the_wrong_shape_is_refused(tmp_path):
    x, y = classification_data()
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    path = saved(tmp_path, model)

    def swap(header):  # slot of weight 0 (3, 4) relabelled as weight 1's (4,)
        header["optimizer/00001/m"], header["optimizer/00000/m"] = (
            header["optimizer/00000/m"],
            header["optimizer/00001/m"],
        )
        del header["__metadata__"]["sha256"]

    rewrite_header(path, swap)
    with pytest.raises(
        ValueError, match=r"slot 'optimizer/00000/m' is float32 \(4,\), its weight '.*hidden/kernel' is"
    ):
        ranvier.load_model(path)

"""ranvier.interop.load_keras_weights: a real Keras 3 .weights.h5 loaded into the same network gives Keras' outputs.

The fixtures in tests/data come from tests/data/make_keras_fixtures.py (real Keras, torch backend).
"""

from pathlib import Path

import numpy as np
import pytest

import ranvier
from ranvier import layers
from ranvier.interop import load_keras_weights

h5py = pytest.importorskip("h5py")
DATA = Path(__file__).parent / "data"


def conv_model(last_units=3):
    return ranvier.Sequential(
        [
            layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 3)),
            layers.BatchNormalization(),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(6, activation="relu"),
            layers.LayerNormalization(),
            layers.Dense(last_units),
        ]
    )


def sequence_model(rnn_units=5):
    return ranvier.Sequential(
        [
            layers.Embedding(10, 4, input_shape=(5,)),
            layers.LSTM(6, return_sequences=True),
            layers.SimpleRNN(rnn_units),
            layers.Dense(2),
        ]
    )


def gru_model():
    return ranvier.Sequential(
        [
            layers.Embedding(10, 4, input_shape=(5,)),
            layers.GRU(6, return_sequences=True),
            layers.GRU(5, reset_after=False),
            layers.Dense(2),
        ]
    )


def wrappers_model(alpha_shared=False):
    return ranvier.Sequential(
        [
            layers.Conv1D(5, 2, input_shape=(6, 4)),
            layers.PReLU(shared_axes=[1] if alpha_shared else None),
            layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
            layers.Bidirectional(layers.GRU(2, return_sequences=True), merge_mode="sum"),
            layers.Bidirectional(layers.SimpleRNN(2, return_sequences=True), merge_mode="ave"),
            layers.TimeDistributed(layers.Dense(3)),
            layers.Reshape((5, 3, 1)),
            layers.Conv2DTranspose(2, 2, strides=2),
        ]
    )


def frames_model():
    return ranvier.Sequential(
        [
            layers.TimeDistributed(layers.Conv2D(3, 3, activation="relu"), input_shape=(3, 6, 5, 2)),
            layers.TimeDistributed(layers.Flatten()),
            layers.Bidirectional(layers.GRU(2, reset_after=False), merge_mode="mul"),
        ]
    )


@pytest.mark.parametrize(
    "name, build",
    [
        ("conv", conv_model),
        ("sequence", sequence_model),
        ("gru", gru_model),
        ("wrappers", wrappers_model),
        ("frames", frames_model),
    ],
)
def test_predictions_match_keras(name, build):
    model = build()
    load_keras_weights(model, DATA / f"keras_{name}.weights.h5")
    model.eval()
    saved = np.load(DATA / f"keras_{name}.npz")
    y = model(ranvier.tensor(saved["x"])).numpy()
    np.testing.assert_allclose(y, saved["y"], rtol=1e-4, atol=1e-5)


def test_every_weight_is_copied_as_stored():
    model = conv_model()
    load_keras_weights(model, DATA / "keras_conv.weights.h5")
    with h5py.File(DATA / "keras_conv.weights.h5") as f:
        np.testing.assert_array_equal(model.layers[0].kernel.numpy(), f["layers/conv2d/vars/0"][()])
        np.testing.assert_array_equal(
            model.layers[1].moving_variance.numpy(), f["layers/batch_normalization/vars/3"][()]
        )
        np.testing.assert_array_equal(model.layers[6].bias.numpy(), f["layers/dense_1/vars/1"][()])


def test_wrong_architecture_is_refused_naming_both_sides():
    model = ranvier.Sequential([layers.Dense(6, input_shape=(36,)), layers.Dense(3)])
    with pytest.raises(ValueError, match=r"groups \['layers/batch_normalization', 'layers/conv2d'"):
        load_keras_weights(model, DATA / "keras_conv.weights.h5")
    extra = ranvier.Sequential([layers.Dense(2, input_shape=(5,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"Dense '.*' against the file's group 'layers/dense_1'.*no such group"):
        load_keras_weights(extra, DATA / "keras_sequence.weights.h5")


def test_shape_mismatch_is_refused_before_any_copy():
    model = sequence_model(rnn_units=7)
    before = [w.numpy().copy() for w in model.weights]
    with pytest.raises(ValueError, match=r"SimpleRNN '.*' against the file's group 'layers/simple_rnn'.*\(6, 5\)"):
        load_keras_weights(model, DATA / "keras_sequence.weights.h5")
    for w, b in zip(model.weights, before):
        np.testing.assert_array_equal(w.numpy(), b)


def test_configuration_mismatch_and_integer_arrays_are_refused(tmp_path):
    no_bias = conv_model()
    no_bias.layers[6] = layers.Dense(3, use_bias=False)
    no_bias.build((None, 8, 8, 3))
    with pytest.raises(ValueError, match=r"group 'layers/dense_1'.*holds 2 arrays.*configured differently"):
        load_keras_weights(no_bias, DATA / "keras_conv.weights.h5")
    path = tmp_path / "int.weights.h5"
    with h5py.File(path, "w") as f:
        f["layers/dense/vars/0"] = np.zeros((4, 2), np.int32)
        f["layers/dense/vars/1"] = np.zeros(2, np.float32)
    with pytest.raises(TypeError, match=r"'layers/dense/vars/0' must be floating for kernel, got int32"):
        load_keras_weights(ranvier.Sequential([layers.Dense(2, input_shape=(4,))]), path)


def test_unbuilt_model_and_non_keras_file_are_refused(tmp_path):
    with pytest.raises(ValueError, match="build it first"):
        load_keras_weights(ranvier.Sequential([layers.Dense(2)]), DATA / "keras_conv.weights.h5")
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["w"] = np.zeros(2)
    with pytest.raises(ValueError, match="not a Keras 3 .weights.h5 file"):
        load_keras_weights(ranvier.Sequential([layers.Dense(2, input_shape=(4,))]), path)


def test_wrapped_layers_read_their_nested_groups():
    model = wrappers_model()
    load_keras_weights(model, DATA / "keras_wrappers.weights.h5")
    with h5py.File(DATA / "keras_wrappers.weights.h5") as f:
        backward = model.layers[2].backward_layer
        np.testing.assert_array_equal(
            backward.recurrent_kernel.numpy(), f["layers/bidirectional/backward_layer/cell/vars/1"][()]
        )
        np.testing.assert_array_equal(
            model.layers[5].layer.kernel.numpy(), f["layers/time_distributed/layer/vars/0"][()]
        )
        np.testing.assert_array_equal(model.layers[1].alpha.numpy(), f["layers/p_re_lu/vars/0"][()])


def test_wrapped_layer_mismatch_names_the_group():
    with pytest.raises(ValueError, match=r"PReLU '.*' against the file's group 'layers/p_re_lu': .*\(5, 5\)"):
        load_keras_weights(wrappers_model(alpha_shared=True), DATA / "keras_wrappers.weights.h5")
    one_way = frames_model()
    one_way.layers[2] = layers.GRU(2, reset_after=False)
    one_way.build((None, 3, 6, 5, 2))
    with pytest.raises(ValueError, match=r"GRU '.*' against the file's group 'layers/gru': the file has no such group"):
        load_keras_weights(one_way, DATA / "keras_frames.weights.h5")

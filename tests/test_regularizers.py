"""ranvier.regularizers and ranvier.constraints on layers: penalties in layer.losses and in the training
loss (with their gradient), constraints holding after steps, frozen weights untouched, saved configs that
load back, and refusals that name the layer and argument."""

import os

import numpy as np
import pytest
from helpers import assert_close

import ranvier
from ranvier import constraints, layers, optimizers, regularizers
from ranvier.tensor import Tensor


def test_penalty_values_by_hand():
    x = Tensor(np.array([[1.0, -2.0], [3.0, 0.5]], np.float32))
    assert_close(regularizers.L1(0.1)(x).numpy(), 0.1 * 6.5, atol=1e-6, rtol=0)
    assert_close(regularizers.L2(0.1)(x).numpy(), 0.1 * 14.25, atol=1e-6, rtol=0)
    assert_close(regularizers.L1L2(l1=0.1, l2=0.01)(x).numpy(), 0.65 + 0.1425, atol=1e-6, rtol=0)
    assert regularizers.L1L2()(x).numpy() == 0
    assert isinstance(regularizers.get("l2"), regularizers.L2) and regularizers.get("l2").l2 == 0.01
    assert isinstance(regularizers.get("l1_l2"), regularizers.L1L2)


def test_orthogonal_regularizer_by_hand_and_its_gradient():
    # rows (1, 0), (1, 1) / sqrt(2), (0, 2): |cosines| 1/sqrt(2), 0, 1/sqrt(2) over 3 pairs
    x = Tensor(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]], np.float32), requires_grad=True)
    penalty = regularizers.OrthogonalRegularizer(factor=0.3)(x)
    assert_close(penalty.numpy(), 0.3 * 0.5 * 2 * (2 * 2**-0.5) / 3, atol=1e-6, rtol=1e-6)
    penalty.backward()
    assert x.grad is not None and np.isfinite(x.grad.numpy()).all()
    with pytest.raises(ValueError, match=r"\[OrthogonalRegularizer\] mode 'rows' needs at least 2 rows"):
        regularizers.OrthogonalRegularizer()(Tensor(np.ones((1, 3), np.float32)))
    with pytest.raises(ValueError, match=r"\[OrthogonalRegularizer\] mode must be 'rows' or 'columns'"):
        regularizers.OrthogonalRegularizer(mode="diagonal")


def test_penalty_keeps_nan():
    x = Tensor(np.array([1.0, np.nan], np.float32))
    assert np.isnan(regularizers.L2(0.1)(x).numpy())
    assert np.isnan(regularizers.L1L2()(x).numpy())


def test_penalties_match_keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    x = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32)
    for ours, theirs in [
        (regularizers.L1(0.03), keras.regularizers.L1(0.03)),
        (regularizers.L2(0.02), keras.regularizers.L2(0.02)),
        (regularizers.L1L2(0.01, 0.05), keras.regularizers.L1L2(0.01, 0.05)),
        (regularizers.OrthogonalRegularizer(0.1), keras.regularizers.OrthogonalRegularizer(0.1)),
        (regularizers.OrthogonalRegularizer(0.2, "columns"), keras.regularizers.OrthogonalRegularizer(0.2, "columns")),
    ]:
        want = float(keras.ops.convert_to_numpy(theirs(keras.ops.convert_to_tensor(x))))
        assert_close(ours(Tensor(x)).numpy(), want, atol=1e-6, rtol=1e-6)
        assert ours.get_config().keys() == theirs.get_config().keys()  # Keras stores l1 as float32
    for ours, theirs in [
        (constraints.MaxNorm(1.5, axis=0), keras.constraints.MaxNorm(1.5, axis=0)),
        (constraints.UnitNorm(axis=1), keras.constraints.UnitNorm(axis=1)),
        (constraints.NonNeg(), keras.constraints.NonNeg()),
        (constraints.MinMaxNorm(0.5, 1.0, rate=0.7), keras.constraints.MinMaxNorm(0.5, 1.0, rate=0.7)),
    ]:
        want = keras.ops.convert_to_numpy(theirs(keras.ops.convert_to_tensor(x)))
        assert_close(ours(x.copy()), want, atol=1e-6, rtol=1e-6)


def test_constraints_by_hand():
    w = np.array([[3.0, 0.1], [4.0, -0.2]], np.float32)  # column norms 5 and ~0.224
    out = constraints.MaxNorm(2.0)(w)
    assert_close(np.linalg.norm(out, axis=0), [2.0, np.linalg.norm(w[:, 1])], atol=1e-5, rtol=0)
    assert_close(np.linalg.norm(constraints.UnitNorm()(w), axis=0), [1.0, 1.0], atol=1e-5, rtol=0)
    assert (constraints.NonNeg()(w) == np.maximum(w, 0)).all()
    nan = np.array([np.nan, -1.0, 2.0], np.float32)
    out = constraints.NonNeg()(nan)
    assert np.isnan(out[0]) and list(out[1:]) == [0.0, 2.0]
    assert np.isnan(constraints.MaxNorm(1.0)(nan)).all()  # the norm is NaN: nothing becomes a number


def test_layer_losses_and_fit_step_by_hand():
    """One SGD step on loss + L2 penalty moves each kernel weight by lr * (dloss/dw + 2 * l2 * w)."""
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 3)).astype(np.float32), rng.standard_normal((8, 2)).astype(np.float32)
    dense = layers.Dense(2, input_shape=(3,), kernel_regularizer=regularizers.L2(0.1), bias_regularizer="l1")
    model = ranvier.Sequential([dense])
    kernel, bias = dense.kernel.numpy().copy(), dense.bias.numpy().copy()
    penalties = model.losses
    assert len(penalties) == 2
    assert_close(penalties[0].numpy(), 0.1 * (kernel**2).sum(), atol=1e-6, rtol=1e-6)
    assert_close(penalties[1].numpy(), 0.01 * np.abs(bias).sum(), atol=1e-6, rtol=1e-6)
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    pred = x @ kernel + bias
    mse = ((pred - y) ** 2).mean()
    want_loss = mse + 0.1 * (kernel**2).sum() + 0.01 * np.abs(bias).sum()
    assert_close(history.history["loss"][0], want_loss, atol=1e-5, rtol=1e-5)
    dpred = 2 * (pred - y) / pred.size
    want_kernel = kernel - 0.1 * (x.T @ dpred + 2 * 0.1 * kernel)
    want_bias = bias - 0.1 * (dpred.sum(0) + 0.01 * np.sign(bias))
    assert_close(dense.kernel.numpy(), want_kernel, atol=1e-6, rtol=1e-5)
    assert_close(dense.bias.numpy(), want_bias, atol=1e-6, rtol=1e-5)


def test_activity_regularizer_is_per_sample_of_the_last_call():
    dense = layers.Dense(2, input_shape=(3,), activity_regularizer=regularizers.L2(0.5))
    x = np.ones((4, 3), np.float32)
    out = dense(Tensor(x)).numpy()
    (penalty,) = dense.losses
    assert_close(penalty.numpy(), 0.5 * (out**2).sum() / 4, atol=1e-6, rtol=1e-6)
    dense(Tensor(x[:1]))
    assert len(dense.losses) == 1  # replaced by the last call's, not accumulated


def test_constraints_hold_after_fit_and_frozen_layers_are_untouched():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((32, 4)).astype(np.float32), rng.standard_normal((32, 3)).astype(np.float32) * 10
    first = layers.Dense(5, input_shape=(4,), kernel_constraint=constraints.MaxNorm(0.5), bias_constraint="non_neg")
    frozen = layers.Dense(3, kernel_constraint=constraints.UnitNorm(), kernel_regularizer="l2")
    model = ranvier.Sequential([first, frozen])
    frozen.trainable = False
    before = frozen.kernel.numpy().copy()
    model.compile(optimizer=optimizers.Adam(learning_rate=0.1), loss="mse")
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert (np.linalg.norm(first.kernel.numpy(), axis=0) <= 0.5 + 1e-5).all()
    assert (first.bias.numpy() >= 0).all()
    np.testing.assert_array_equal(frozen.kernel.numpy(), before)  # not moved, not projected
    assert len(model.losses) == 0  # a frozen weight's penalty is not trained (Keras: trainable weights only)


def test_config_round_trip_and_closed_registry(tmp_path):
    dense = layers.Dense(
        3,
        input_shape=(2,),
        kernel_regularizer=regularizers.L1L2(0.01, 0.02),
        bias_constraint=constraints.MaxNorm(3.0, axis=0),
        activity_regularizer="l1",
    )
    config = dense.get_config()
    assert config["kernel_regularizer"] == {"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.02}}
    again = layers.Dense.from_config(config)
    assert again.kernel_regularizer.get_config() == {"l1": 0.01, "l2": 0.02}
    assert again.bias.constraint.get_config() == {"max_value": 3.0, "axis": 0}
    model = ranvier.Sequential([dense])
    model.compile(optimizer=optimizers.Nadam(clipnorm=1.0), loss="mse")
    model.fit(np.ones((4, 2), np.float32), np.zeros((4, 3), np.float32), verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = ranvier.load_model(path)
    assert loaded.layers[0].get_config() == dense.get_config()
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    with pytest.raises(ValueError, match=r"\[regularizer\] expected None, a Regularizer"):
        regularizers.get({"class_name": "Evil", "config": {}})
    with pytest.raises(ValueError, match=r"\[constraint\] expected None, a Constraint"):
        constraints.get("no_such")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"\[Dense 'd'\] bias_regularizer was given, but the layer has no 'bias'"):
        layers.Dense(2, use_bias=False, bias_regularizer="l2", input_shape=(3,), name="d")
    with pytest.raises(ValueError, match=r"\[Flatten 'f'\] kernel_constraint was given, but the layer has no 'kernel'"):
        layers.Flatten(kernel_constraint="non_neg", name="f")(Tensor(np.ones((2, 3, 4), np.float32)))
    with pytest.raises(ValueError, match=r"\[Dense 'e'\] expected None, a Regularizer, one of 'l1', 'l2', 'l1_l2'"):
        layers.Dense(2, kernel_regularizer="l3", name="e")
    with pytest.raises(ValueError, match=r"\[L2\] l2 must be a finite number >= 0, got -1"):
        regularizers.L2(-1)
    with pytest.raises(TypeError, match=r"\[MaxNorm\] axis must be an int or a list of ints"):
        constraints.MaxNorm(axis="0")
    with pytest.raises(ValueError, match=r"\[MaxNorm\] axis 2 is out of range for a weight of shape \(3,\)"):
        constraints.MaxNorm(axis=2)(np.ones(3, np.float32))
    with pytest.raises(TypeError, match=r"\[Dense\] unexpected argument\(s\): kernel_regulariser"):
        layers.Dense(2, kernel_regulariser="l2")

    def custom(w):
        return (w * w).sum()

    dense = layers.Dense(2, input_shape=(3,), kernel_regularizer=custom, name="c")
    assert len(dense.losses) == 1  # a plain callable works in code...
    with pytest.raises(ValueError, match=r"\[Dense 'c'\] cannot save the regularizer"):
        dense.get_config()  # ...but a file names only ranvier's own classes


def test_recurrent_and_embedding_weights_take_their_arguments():
    lstm = layers.LSTM(
        3,
        input_shape=(5, 2),
        kernel_regularizer="l2",
        recurrent_regularizer=regularizers.L1(0.5),
        recurrent_constraint=constraints.UnitNorm(),
        bias_constraint="non_neg",
    )
    assert len(lstm.losses) == 2
    assert_close(lstm.losses[1].numpy(), 0.5 * np.abs(lstm.recurrent_kernel.numpy()).sum(), atol=1e-5, rtol=1e-5)
    assert isinstance(lstm.recurrent_kernel.constraint, constraints.UnitNorm)
    embedding = layers.Embedding(10, 4, embeddings_regularizer="l1", embeddings_constraint="max_norm")
    embedding(Tensor(np.array([[1, 2]])))
    assert len(embedding.losses) == 1 and isinstance(embedding.embeddings.constraint, constraints.MaxNorm)


def test_activity_penalty_of_a_fused_softmax_layer_is_on_its_output():
    """With softmax + cross-entropy fused, the last layer's activity penalty still sees the probabilities."""
    x = np.random.default_rng(3).standard_normal((6, 4)).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2])
    last = layers.Dense(3, activation="softmax", activity_regularizer=regularizers.L2(1.0))
    model = ranvier.Sequential([layers.Dense(5, input_shape=(4,)), last])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    probabilities = model.predict(x, verbose=0)
    history = model.fit(x, y, batch_size=6, epochs=1, shuffle=False, verbose=0)
    logs = history.history["loss"][0]
    p = probabilities[np.arange(6), y]
    assert_close(logs, -np.log(p).mean() + (probabilities**2).sum() / 6, atol=1e-5, rtol=1e-5)

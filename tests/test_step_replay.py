"""compile(jit_compile=True): a recorded step replayed from C++ trains to the same bits as the eager
step, and every model or step it cannot replay trains eagerly, with a warning that says why."""

import warnings

import numpy as np
import pytest

import ranvier
from ranvier import _cpu, layers, ops, optimizers, schedules, step_replay

RNG = np.random.default_rng(7)


def mlp():
    return ranvier.Sequential(
        [layers.Dense(16, activation="relu", input_shape=(12,)), layers.Dense(5, activation="softmax")]
    )


def cnn():
    return ranvier.Sequential(
        [
            layers.Conv2D(4, 3, activation="relu", input_shape=(9, 9, 2)),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(5, activation="softmax"),
        ]
    )


def lstm():
    return ranvier.Sequential(
        [
            layers.LSTM(8, return_sequences=True, input_shape=(6, 3)),
            layers.LSTM(8),
            layers.Dense(5, activation="softmax"),
        ]
    )


SHAPES = {"mlp": (12,), "cnn": (9, 9, 2), "lstm": (6, 3)}


def data(model_fn, n=45):
    shape = SHAPES.get(model_fn.__name__, (12,))
    return RNG.standard_normal((n, *shape)).astype(np.float32), RNG.integers(0, 5, n)


def initial_weights(model_fn) -> list:
    """A fresh model's weights: the eager and the jit twin start from them."""
    ref = model_fn()
    ref.compile(loss="sparse_categorical_crossentropy")
    return ref.get_weights()


def train(model_fn, jit, x, y, optimizer=lambda: optimizers.Adam(0.01), weights=None, epochs=4, **fit):
    model = model_fn()
    model.compile(
        optimizer=optimizer(), loss="sparse_categorical_crossentropy", jit_compile=jit, **fit.pop("compile", {})
    )
    if weights is not None:
        model.set_weights(weights)
    history = model.fit(x, y, batch_size=fit.pop("batch_size", 8), epochs=epochs, verbose=0, shuffle=False, **fit)
    return model, history.history


@pytest.mark.parametrize("model_fn", [mlp, cnn, lstm], ids=["mlp", "cnn", "lstm"])
@pytest.mark.parametrize(
    "optimizer", [lambda: optimizers.Adam(0.01), lambda: optimizers.SGD(0.05, momentum=0.9)], ids=["adam", "sgd"]
)
def test_replay_trains_to_the_same_bits(model_fn, optimizer):
    x, y = data(model_fn)  # 45 samples, batch 8: five full batches and one of 5, each shape replayed
    start = initial_weights(model_fn)
    eager, eager_history = train(model_fn, False, x, y, optimizer, weights=start)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a capturable model replays without a warning
        jit, jit_history = train(model_fn, True, x, y, optimizer, weights=start)
    assert [state for *_, state in jit._step_replay.status()] == ["replayed", "replayed"]
    assert jit_history == eager_history
    for a, b in zip(eager.get_weights(), jit.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert jit.optimizer.iterations == eager.optimizer.iterations == 4 * 6


def pair(model_fn, x, y, jit_kwargs=None, **kwargs):
    """Eager and jit models trained the same way from the same weights."""
    start = initial_weights(model_fn)
    eager, eager_history = train(model_fn, False, x, y, weights=start, **kwargs)
    jit, jit_history = train(model_fn, True, x, y, weights=start, **kwargs)
    return eager, eager_history, jit, jit_history


def assert_same(eager, jit):
    for a, b in zip(eager.get_weights(), jit.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_learning_rate_schedule_and_metrics():
    x, y = data(mlp)
    kwargs = dict(
        optimizer=lambda: optimizers.Adam(schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)),
        compile={"metrics": ["accuracy"]},
    )
    eager, eager_history, jit, jit_history = pair(mlp, x, y, **kwargs)
    assert "replayed" in [state for *_, state in jit._step_replay.status()]
    assert jit_history == eager_history and "accuracy" in jit_history
    assert_same(eager, jit)


def test_changes_between_fits_reach_the_replay():
    """A new learning rate, weights set in place, a weight array replaced, a frozen layer."""
    x, y = data(mlp)
    models = pair(mlp, x, y)[::2]
    for model in models:
        model.optimizer.learning_rate = 0.003
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        model.set_weights([w * 0.5 for w in model.get_weights()])
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        first = model.layers[0]
        first.kernel.data = first.kernel.data.copy()  # a new array: a plan holding the old one must not replay
        model.fit(x, y, batch_size=8, epochs=4, verbose=0, shuffle=False)
    assert_same(*models)
    eager, jit = models
    for model in models:
        model.layers[0].trainable = False
        model._bind_optimizer()
    frozen = [w.copy() for w in jit.layers[0].get_weights()]
    for model in models:
        model.fit(x, y, batch_size=8, epochs=4, verbose=0, shuffle=False)
    for a, b in zip(frozen, jit.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)  # a frozen weight never moves
    assert_same(eager, jit)
    assert "replayed" in [state for *_, state in jit._step_replay.status()]


def test_a_layer_added_after_recording_is_recorded_again():
    x, y = data(mlp, 32)
    models = pair(mlp, x, y)[::2]
    for model in models:
        model.add(layers.Activation("tanh"))  # no weights: only the layer tree tells the plan changed
        model.fit(x, y, batch_size=8, epochs=4, verbose=0, shuffle=False)
    assert_same(*models)
    np.testing.assert_array_equal(models[0].predict(x, verbose=0), models[1].predict(x, verbose=0))


def test_a_layer_frozen_or_switched_to_inference_mid_fit_is_recorded_again():
    """A callback freezes the first layer and turns dropout off after a few batches: the frozen weight
    never moves and the masks stop, under jit as eagerly."""
    from ranvier import callbacks, utils

    class Switch(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.model.optimizer.iterations == 9:
                self.model.layers[0].trainable = False
                self.model.layers[1].training = False

    x, y = data(with_dropout)
    start = initial_weights(with_dropout)
    models = []
    for jit in (False, True):
        utils.set_seed(4)
        models.append(train(with_dropout, jit, x, y, weights=start, callbacks=[Switch()])[0])
    assert_same(*models)
    frozen = models[1].layers[0].get_weights()
    models[1].fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(frozen, models[1].layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_label_out_of_range_in_a_replayed_step_raises_the_ops_error():
    x, y = data(mlp, 32)
    model, _ = train(mlp, True, x, y)
    assert [state for *_, state in model._step_replay.status()] == ["replayed"]
    bad = y.copy()
    bad[3] = 5
    with pytest.raises(ValueError, match=r"\[softmax_cross_entropy\].*label"):
        model.fit(x, bad, batch_size=8, epochs=1, verbose=0, shuffle=False)


def regularized():
    return ranvier.Sequential(
        [layers.Dense(16, activation="relu", input_shape=(12,), kernel_regularizer="l2"), layers.Dense(5, "softmax")]
    )


def with_dropout():
    return ranvier.Sequential(
        [layers.Dense(16, activation="relu", input_shape=(12,)), layers.Dropout(0.3), layers.Dense(5, "softmax")]
    )


class OwnSGD(optimizers.SGD):
    """A user's optimizer: its update may do anything, so no replay is tried."""


def seeded_dropout():
    return ranvier.Sequential(
        [
            layers.Dense(16, activation="relu", input_shape=(12,)),
            layers.Dropout(0.3, seed=5),
            layers.Dense(5, "softmax"),
        ]
    )


def test_dropout_replays_with_the_seeds_the_eager_step_would_draw():
    """Each replay draws dropout's seeds from ranvier.utils as the eager step does: the same masks, the
    same weights, and the generator left where eager training leaves it."""
    from ranvier import utils

    x, y = data(with_dropout)
    start = initial_weights(with_dropout)
    runs = []
    for jit in (False, True):
        utils.set_seed(11)
        model, history = train(with_dropout, jit, x, y, weights=start)
        runs.append((model, history, utils.next_seed()))
    (eager, eager_history, eager_next), (jit, jit_history, jit_next) = runs
    assert [state for *_, state in jit._step_replay.status()] == ["replayed", "replayed"]
    assert jit_history == eager_history and eager_next == jit_next
    assert_same(eager, jit)


def with_batch_norm():
    return ranvier.Sequential(
        [layers.Dense(16, input_shape=(12,)), layers.BatchNormalization(), layers.Dense(5, activation="softmax")]
    )


def constrained():
    return ranvier.Sequential(
        [layers.Dense(16, input_shape=(12,), kernel_constraint="non_neg"), layers.Dense(5, activation="softmax")]
    )


@pytest.mark.parametrize(
    "model_fn, optimizer, reason",
    [
        (regularized, lambda: optimizers.Adam(0.01), "adam_update's grad is an array made anew"),
        (seeded_dropout, lambda: optimizers.Adam(0.01), "a Dropout layer's own seed"),
        (with_batch_norm, lambda: optimizers.Adam(0.01), "BatchNormalization"),
        (constrained, lambda: optimizers.Adam(0.01), "constraint"),
        (mlp, lambda: optimizers.Adam(0.01, clipnorm=1.0), "clipping"),
        (mlp, lambda: optimizers.Nadam(0.01), "nadam_update's step changed"),
        (mlp, lambda: optimizers.SGD(0.05, weight_decay=0.01), "SGD's weight decay is applied in Python"),
        (mlp, lambda: OwnSGD(0.05), "optimizer OwnSGD is not one whose update is its kernel alone"),
    ],
    ids=["regularizer", "seeded_dropout", "batchnorm", "constraint", "clipnorm", "nadam", "sgd_decay", "own"],
)
def test_what_cannot_replay_trains_eagerly_and_says_why(model_fn, optimizer, reason):
    check_eager_fallback(model_fn, optimizer, reason)


def test_sample_weights_are_applied_outside_the_kernels_so_the_step_stays_eager():
    x, y = data(mlp)
    sw = RNG.uniform(0.5, 2.0, len(y)).astype(np.float32)
    check_eager_fallback(mlp, lambda: optimizers.Adam(0.01), "dloss is an array made anew", sample_weight=sw)


def check_eager_fallback(model_fn, optimizer, reason, **fit):
    x, y = data(model_fn)
    start = initial_weights(model_fn)
    eager, eager_history = train(model_fn, False, x, y, optimizer, weights=start, **fit)
    with pytest.warns(RuntimeWarning, match=f"jit_compile=True: .*{reason}"):
        jit, jit_history = train(model_fn, True, x, y, optimizer, weights=start, **fit)
    assert all(state not in ("replayed", "recording") for *_, state in jit._step_replay.status())
    assert jit_history == eager_history
    assert_same(eager, jit)


def test_the_checks_catch_what_the_layer_list_lets_through(monkeypatch):
    """BatchNormalization allowed in: its statistics are NumPy, so the recorded step does not replay."""
    monkeypatch.setattr(step_replay, "CAPTURABLE_LAYERS", step_replay.CAPTURABLE_LAYERS | {"BatchNormalization"})
    x, y = data(with_batch_norm)
    with pytest.warns(RuntimeWarning, match="jit_compile=True"):
        model, _ = train(with_batch_norm, True, x, y)
    assert all(state not in ("replayed", "recording") for *_, state in model._step_replay.status())


def test_compile_refuses_an_unknown_jit_compile():
    with pytest.raises(ValueError, match=r"\[compile\] jit_compile"):
        mlp().compile(optimizer="adam", loss="mse", jit_compile="xla")


# ---- the C++ plan --------------------------------------------------------------------------------


def test_plan_replays_its_calls_on_new_values():
    x = RNG.standard_normal((5, 7)).astype(np.float32)
    w = RNG.standard_normal((7, 3)).astype(np.float32)
    plan = _cpu.StepPlan()
    plan.start()
    y = ops.linear(x, w, activation="relu")
    z = ops.softmax(y)
    plan.stop()
    assert plan.ops == ["linear", "softmax"] and len(plan) == 2 and plan.copied_inputs == []
    x[...] = RNG.standard_normal(x.shape)
    w *= 2
    plan.run(0.0, 1)
    np.testing.assert_array_equal(z, ops.softmax(ops.linear(x, w, activation="relu")))


def test_plan_updates_take_the_replays_learning_rate_and_step():
    p, g = RNG.standard_normal(6).astype(np.float32), RNG.standard_normal(6).astype(np.float32)
    m, v = np.zeros(6, np.float32), np.zeros(6, np.float32)
    twin = [a.copy() for a in (p, m, v)]
    plan = _cpu.StepPlan()
    plan.start()
    ops.adam_update(p, g, m, v, step=1, lr=0.1)
    plan.stop()
    plan.run(0.01, 2)
    ops.adam_update(*twin[:1], g, *twin[1:], step=1, lr=0.1)
    ops.adam_update(*twin[:1], g, *twin[1:], step=2, lr=0.01)
    for a, b in zip((p, m, v), twin):
        np.testing.assert_array_equal(a, b)


def test_plan_marks_a_call_that_read_a_copy_and_refuses_misuse():
    x = RNG.standard_normal((2, 8, 8, 3)).astype(np.float32)[:, ::2]  # strided: pool backward copies it
    dy = np.ones((2, 2, 4, 3), np.float32)
    plan = _cpu.StepPlan()
    plan.start()
    with pytest.raises(RuntimeError, match="already records"):
        _cpu.StepPlan().start()
    with pytest.raises(RuntimeError, match="still recording"):
        plan.run(0.0, 1)
    ops.max_pool2d_backward(dy, x, 2)
    plan.stop()
    assert plan.copied_inputs == ["max_pool2d_backward"]
    with pytest.raises(ValueError, match=r"\[StepPlan\] run: lr"):
        plan.run(float("nan"), 1)
    with pytest.raises(ValueError, match=r"\[StepPlan\] run: step"):
        plan.run(0.1, 0)


def test_one_hot_labels_replay_and_a_nan_label_raises_the_ops_error():
    x, labels = data(mlp, 32)
    y = np.eye(5, dtype=np.float32)[labels]
    models, start = [], None
    for jit in (False, True):
        model = mlp()
        model.compile(optimizer=optimizers.Adam(0.01), loss="categorical_crossentropy", jit_compile=jit)
        start = model.get_weights() if start is None else start
        model.set_weights(start)
        models.append((model, model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False).history))
    (eager, eager_history), (jit, jit_history) = models
    assert [state for *_, state in jit._step_replay.status()] == ["replayed"]
    assert eager_history == jit_history
    assert_same(eager, jit)
    y[5, 2] = np.nan
    with pytest.raises(ValueError, match=r"\[softmax_cross_entropy\] labels contain NaN"):
        jit.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)


@pytest.mark.parametrize("model_fn", [mlp, cnn, lstm], ids=["mlp", "cnn", "lstm"])
def test_predict_replays_the_forward_pass_with_the_same_outputs(model_fn):
    x, _ = data(model_fn, 29)
    eager = model_fn()
    eager.compile(loss="sparse_categorical_crossentropy")
    jit = model_fn()
    jit.compile(loss="sparse_categorical_crossentropy", jit_compile=True)
    jit.set_weights(eager.get_weights())
    expected = eager.predict(x, batch_size=8, verbose=0)
    for _ in range(4):  # record, record, check, replay: every output a copy (predict joins the batches)
        np.testing.assert_array_equal(jit.predict(x, batch_size=8, verbose=0), expected)
    assert [state for *_, state in jit._step_replay.status()] == ["replayed", "replayed"]
    jit.set_weights([w * 0.5 for w in jit.get_weights()])  # in place: read by the replay
    eager.set_weights(jit.get_weights())
    np.testing.assert_array_equal(jit.predict(x, batch_size=8, verbose=0), eager.predict(x, batch_size=8, verbose=0))


def test_predict_of_a_model_that_cannot_replay_runs_eagerly():
    x, _ = data(with_batch_norm, 16)
    model = with_batch_norm()
    model.compile(loss="sparse_categorical_crossentropy", jit_compile=True)
    with pytest.warns(RuntimeWarning, match="BatchNormalization"):
        out = model.predict(x, verbose=0)
    assert out.shape == (16, 5) and model._step_replay.status()[0][2].startswith("layer")


def test_profile_times_every_kernel_call_of_a_replayed_step():
    x, y = data(cnn, 32)
    model, _ = train(cnn, True, x, y)
    with pytest.raises(ValueError, match="no replayed 'predict' step"):
        model._step_replay.profile("predict")
    iterations = model.optimizer.iterations
    profile = model._step_replay.profile("fit", repeats=3)
    assert [op for op, _ in profile][:2] == ["conv2d", "max_pool2d"] and "sgd_update" not in dict(profile)
    assert "adam_update" in dict(profile) and all(seconds >= 0 for _, seconds in profile)
    assert model.optimizer.iterations == iterations + 3


def train_through_a_kept_matrix(changes: bool) -> list:
    """A Lambda multiplies by a NumPy matrix the model does not own; a callback changes it in place after
    every batch when ``changes``. Returns the fit plans' states."""
    from ranvier import callbacks, functional
    from ranvier.tensor import Tensor

    matrix = np.eye(12, dtype=np.float32) * 0.5

    class Nudge(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if changes:
                matrix[0, 0] += 0.25

    def build():
        return ranvier.Sequential(
            [
                layers.Lambda(lambda t: functional.linear(t, Tensor(matrix)), input_shape=(12,)),
                layers.Dense(5, activation="softmax"),
            ]
        )

    x, y = data(mlp, 32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, _ = train(build, True, x, y, callbacks=[Nudge()])
    return [state for *_, state in model._step_replay.status()]


def test_an_array_kept_across_steps_replays_only_while_nothing_outside_the_kernels_changes_it(monkeypatch):
    """The Lambda let in for the test: kept as it is, the matrix is read like a weight; changed in place
    between steps (outside the kernels), the step is not replayed."""
    monkeypatch.setattr(step_replay, "CAPTURABLE_LAYERS", step_replay.CAPTURABLE_LAYERS | {"Lambda"})
    assert train_through_a_kept_matrix(changes=False) == ["replayed"]
    assert train_through_a_kept_matrix(changes=True) == [
        "linear's w is kept across steps and changed outside the kernels"
    ]


def test_plan_gives_each_seeded_call_its_seed_from_the_replay():
    x = np.ones((40, 50), np.float32)
    plan = _cpu.StepPlan()
    plan.start()
    y, _ = ops.dropout(x, 0.5, 7)
    z = ops.relu(y)
    y2, _ = ops.dropout(z, 0.5, 9)
    plan.stop()
    assert plan.seed_count == 2 and plan.ops == ["dropout", "relu", "dropout"]
    first, second = y.copy(), y2.copy()
    plan.run(0.0, 1, [7, 9])
    np.testing.assert_array_equal(y2, second)
    plan.run(0.0, 1, [8, 9])  # a new first mask, and the second one applied to it
    assert not np.array_equal(y, first)
    np.testing.assert_array_equal(y2, ops.dropout(ops.relu(ops.dropout(x, 0.5, 8)[0]), 0.5, 9)[0])
    with pytest.raises(ValueError, match=r"\[StepPlan\] run: seeds must hold one seed per seeded call \(2\), got 1"):
        plan.run(0.0, 1, [1])


def test_evaluate_and_validation_replay_the_loss_with_the_same_logs():
    x, y = data(cnn, 40)
    x_val, y_val = data(cnn, 21)
    eager, eager_history, jit, jit_history = pair(
        cnn, x, y, validation_data=(x_val, y_val), compile={"metrics": ["accuracy"]}
    )
    assert jit_history == eager_history and "val_loss" in jit_history and "val_accuracy" in jit_history
    assert_same(eager, jit)
    for _ in range(2):
        assert jit.evaluate(x_val, y_val, batch_size=8, verbose=0) == eager.evaluate(
            x_val, y_val, batch_size=8, verbose=0
        )
    states = {(kind, shape): state for kind, shape, state in jit._step_replay.status()}
    assert states[("evaluate", (8, 9, 9, 2))] == "replayed" and states[("fit", (8, 9, 9, 2))] == "replayed"
    bad = y_val.copy()
    bad[0] = 7
    with pytest.raises(ValueError, match=r"\[softmax_cross_entropy\].*label"):
        jit.evaluate(x_val, bad, batch_size=8, verbose=0)


def text_classifier():
    return ranvier.Sequential(
        [layers.Embedding(50, 8, input_shape=(7,)), layers.GRU(6), layers.Dense(5, activation="softmax")]
    )


def sequence_model():
    return ranvier.Sequential(
        [
            layers.Conv1D(6, 3, activation="relu", input_shape=(9, 4)),
            layers.LayerNormalization(),
            layers.GlobalMaxPooling1D(),
            layers.Dense(5, activation="softmax"),
        ]
    )


def spatial_model():
    return ranvier.Sequential(
        [
            layers.ZeroPadding2D(1, input_shape=(6, 6, 2)),
            layers.Conv2D(3, 3, activation="relu"),
            layers.UpSampling2D(),
            layers.Cropping2D(1),
            layers.AveragePooling2D(),
            layers.Flatten(),
            layers.Dense(5, activation="softmax"),
        ]
    )


@pytest.mark.parametrize(
    "model_fn, x",
    [
        (text_classifier, RNG.integers(0, 50, (45, 7))),  # ids from the batch: range-checked at each replay
        (sequence_model, RNG.standard_normal((45, 9, 4)).astype(np.float32)),
        (spatial_model, RNG.standard_normal((45, 6, 6, 2)).astype(np.float32)),
    ],
    ids=["embedding_gru", "conv1d_layernorm", "padding_upsampling_cropping"],
)
def test_the_other_capturable_layers_replay_to_the_same_bits(model_fn, x):
    y = RNG.integers(0, 5, len(x))
    start = initial_weights(model_fn)
    eager, eager_history = train(model_fn, False, x, y, weights=start)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jit, jit_history = train(model_fn, True, x, y, weights=start)
    assert [state for *_, state in jit._step_replay.status()] == ["replayed", "replayed"]
    assert jit_history == eager_history
    assert_same(eager, jit)
    if model_fn is text_classifier:
        bad = x.copy()
        bad[0, 0] = 50
        with pytest.raises(ValueError, match=r"\[embedding\] ids must be in \[0, 50\)"):
            jit.fit(bad, y, batch_size=8, epochs=1, verbose=0, shuffle=False)

"""Callbacks without files: the base and its list, progress, LambdaCallback, TerminateOnNaN, EarlyStopping,
LearningRateScheduler and ReduceLROnPlateau, each against hand-checked expectations (and Keras 3 where it is
installed: the same monitored sequence fed to both)."""

import os
import types

import numpy as np
import pytest
from callback_models import regression_data, small_model

from ranvier import callbacks


class Float32Rate:
    """An optimizer whose rate is stored as float32, as a Keras optimizer's variable."""

    def __init__(self, learning_rate):
        self.learning_rate, self.iterations = learning_rate, 0

    @property
    def learning_rate(self):
        return self._rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._rate = np.float32(value)


class FakeModel:
    """What a callback touches of a model, for driving hooks by hand."""

    def __init__(self, learning_rate=0.1, optimizer=None):
        self.optimizer = optimizer or types.SimpleNamespace(learning_rate=learning_rate, iterations=0)
        self.stop_training = False
        self.weights = [np.zeros(2, np.float32)]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]


def drive(callback, values, monitor="val_loss", model=None, on_epoch=None):
    """Feed ``values`` as the monitored log of successive epochs; returns the model and each epoch's logs."""
    model = model or FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    seen = []
    for epoch, value in enumerate(values):
        if on_epoch is not None:
            on_epoch(model, epoch)
        logs = {monitor: value}
        callback.on_epoch_end(epoch, logs)
        seen.append(logs)
        if model.stop_training:
            break
    callback.on_train_end()
    return model, seen


@pytest.fixture
def keras_callbacks(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "torch"))
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    return keras.callbacks


# ---- the base, the list, fit's order of hooks ---------------------------------------------------------


class Recorder(callbacks.Callback):
    def __init__(self, name, events):
        super().__init__()
        self.name, self.events = name, events

    def on_train_begin(self, logs=None):
        self.events.append((self.name, "train_begin", dict(self.params)))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append((self.name, "epoch_begin", epoch))

    def on_train_batch_begin(self, batch, logs=None):
        self.events.append((self.name, "batch_begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append((self.name, "batch_end", batch))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append((self.name, "epoch_end", epoch))

    def on_train_end(self, logs=None):
        self.events.append((self.name, "train_end", None))


def test_fit_calls_every_hook_in_order_on_every_callback_in_order():
    events = []
    model = small_model()
    x, y = regression_data(10)
    history = model.fit(
        x, y, batch_size=4, epochs=2, verbose=0, callbacks=[Recorder("a", events), Recorder("b", events)]
    )
    assert events[0] == ("a", "train_begin", {"epochs": 2, "steps": 3, "verbose": 0})
    assert events[1] == ("b", "train_begin", {"epochs": 2, "steps": 3, "verbose": 0})
    expected = []
    for epoch in range(2):
        expected += [("a", "epoch_begin", epoch), ("b", "epoch_begin", epoch)]
        for batch in range(3):
            expected += [("a", "batch_begin", batch), ("b", "batch_begin", batch)]
            expected += [("a", "batch_end", batch), ("b", "batch_end", batch)]
        expected += [("a", "epoch_end", epoch), ("b", "epoch_end", epoch)]
    assert events[2:-2] == expected
    assert events[-2:] == [("a", "train_end", None), ("b", "train_end", None)]
    assert model.history is history and history.epoch == [0, 1]


def test_the_base_has_every_keras_hook_and_the_batch_aliases():
    cb = callbacks.Callback()
    assert cb.model is None and cb.params is None
    for hook in ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end", "on_predict_begin"):
        assert getattr(cb, hook)() is None
    for hook in ("on_epoch_begin", "on_epoch_end", "on_test_batch_begin", "on_test_batch_end"):
        assert getattr(cb, hook)(0, {}) is None
    assert cb.on_predict_end() is None and cb.on_predict_batch_begin(0) is None and cb.on_predict_batch_end(0) is None

    class OldStyle(callbacks.Callback):  # Keras 2 habit: on_batch_end for training batches
        def __init__(self):
            super().__init__()
            self.batches = []

        def on_batch_begin(self, batch, logs=None):
            self.batches.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            self.batches.append(("end", batch))

    old = OldStyle()
    small_model().fit(*regression_data(8), batch_size=4, epochs=1, verbose=0, callbacks=[old])
    assert old.batches == [("begin", 0), ("end", 0), ("begin", 1), ("end", 1)]


def test_callback_list_keras_signature_adds_history_and_progbar_once():
    model, mine = FakeModel(), callbacks.History()
    cbs = callbacks.CallbackList([mine], add_history=True, add_progbar=True, model=model, epochs=3, steps=2, verbose=0)
    assert [type(cb).__name__ for cb in cbs.callbacks] == ["History", "ProgbarLogger"]
    assert cbs.callbacks[0] is mine and model.history is mine
    assert all(cb.model is model and cb.params == {"epochs": 3, "steps": 2, "verbose": 0} for cb in cbs.callbacks)
    bar = callbacks.ProgbarLogger()
    assert callbacks.CallbackList([bar], add_progbar=True).callbacks == [bar]
    cbs.append(callbacks.TerminateOnNaN())
    assert len(cbs.callbacks) == 3
    with pytest.raises(TypeError, match=r"\[CallbackList\] callbacks must be ranvier.callbacks.Callback"):
        callbacks.CallbackList([lambda epoch: None])


def test_a_logs_key_added_by_one_callback_reaches_the_next_and_the_history():
    class AddsKey(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["twice_loss"] = 2 * logs["loss"]

    seen = []
    reader = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs["twice_loss"]))
    history = small_model().fit(*regression_data(8), epochs=2, verbose=0, callbacks=[AddsKey(), reader])
    assert seen == [2 * v for v in history.history["loss"]] == history.history["twice_loss"]


# ---- ProgbarLogger --------------------------------------------------------------------------------------


def test_progbar_logger_verbose_2_one_line_per_epoch_and_no_epoch_header_for_one_epoch(capsys):
    small_model().fit(*regression_data(10), batch_size=4, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert lines[1].startswith("3/3 - ") and " - loss: " in lines[1] and " - mae: " in lines[1]
    small_model().fit(*regression_data(10), batch_size=4, epochs=1, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("3/3 - ")  # Keras: no "Epoch 1/1"
    small_model().fit(*regression_data(10), batch_size=4, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_progbar_logger_given_by_the_user_is_not_doubled(capsys):
    small_model().fit(*regression_data(10), batch_size=4, epochs=1, verbose=2, callbacks=[callbacks.ProgbarLogger()])
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_progbar_logger_draws_evaluate_and_predict_bars_but_not_validation_inside_fit(capsys):
    bar = callbacks.ProgbarLogger()
    cbs = callbacks.CallbackList([bar], model=FakeModel(), epochs=1, steps=2, verbose=2)
    cbs.on_test_begin()
    cbs.on_test_batch_end(0, {"loss": 1.0})
    cbs.on_test_batch_end(1, {"loss": 3.0})
    cbs.on_test_end({"loss": 2.0})
    out = capsys.readouterr().out
    assert out.startswith("2/2 - ") and out.endswith(" - loss: 2.0000\n")
    cbs.on_train_begin()
    cbs.on_test_begin()
    cbs.on_test_end({"loss": 2.0})
    assert capsys.readouterr().out == ""  # validation inside fit is silent


# ---- LambdaCallback ----------------------------------------------------------------------------------------


def test_lambda_callback_calls_each_function_with_keras_arguments():
    calls = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(f"epoch_begin {epoch}"),
        on_train_batch_end=lambda batch, logs: calls.append(f"batch_end {batch} {sorted(logs)}"),
        on_epoch_end=lambda epoch, logs: calls.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: calls.append("train_end"),
    )
    small_model().fit(*regression_data(6), batch_size=4, epochs=1, verbose=0, callbacks=[cb])
    assert calls == [
        "train_begin",
        "epoch_begin 0",
        "batch_end 0 ['loss', 'mae']",
        "batch_end 1 ['loss', 'mae']",
        "epoch_end 0 ['loss', 'mae']",
        "train_end",
    ]


def test_lambda_callback_takes_other_hooks_and_refuses_unknown_names():
    ended = []
    cb = callbacks.LambdaCallback(on_test_end=lambda logs: ended.append(logs))
    cb.on_test_end({"loss": 1.0})
    assert ended == [{"loss": 1.0}]
    with pytest.raises(TypeError, match=r"\[LambdaCallback\] unknown hooks \['on_epoch_ends'\]"):
        callbacks.LambdaCallback(on_epoch_ends=print)
    with pytest.raises(TypeError, match=r"\[LambdaCallback\] on_epoch_end must be callable, got int"):
        callbacks.LambdaCallback(on_epoch_end=3)


# ---- TerminateOnNaN ---------------------------------------------------------------------------------------


def test_terminate_on_nan_stops_or_raises():
    model = FakeModel()
    cb = callbacks.TerminateOnNaN()
    cb.set_model(model)
    cb.on_epoch_begin(1)
    cb.on_train_batch_end(0, {"loss": 1.5})
    assert not model.stop_training
    cb.on_train_batch_end(1, {"loss": float("inf")})
    assert model.stop_training
    strict = callbacks.TerminateOnNaN(raise_error=True)
    strict.set_model(FakeModel())
    with pytest.raises(RuntimeError, match=r"\[TerminateOnNaN\] Epoch 1, batch 4: invalid loss nan"):
        strict.on_train_batch_end(3, {"loss": float("nan")})


# ---- EarlyStopping ----------------------------------------------------------------------------------------


def test_early_stopping_patience_counts_epochs_without_improvement():
    stop = callbacks.EarlyStopping(patience=2)
    _, seen = drive(stop, [1.0, 0.5, 0.6, 0.55, 0.4])
    assert len(seen) == 4 and stop.stopped_epoch == 3 and stop.best == 0.5  # 0.6 and 0.55 do not beat 0.5


def test_early_stopping_min_delta_mode_max_and_auto_for_accuracy():
    stop = callbacks.EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.05)
    _, seen = drive(stop, [0.5, 0.54, 0.7], monitor="val_accuracy")  # +0.04 is not an improvement
    assert len(seen) == 2 and stop.stopped_epoch == 1
    stop = callbacks.EarlyStopping(monitor="score", mode="max", patience=1)
    _, seen = drive(stop, [1.0, 2.0, 3.0, 2.5], monitor="score")
    assert len(seen) == 4 and stop.best == 3.0
    with pytest.raises(ValueError, match=r"\[EarlyStopping\] cannot tell whether monitor='score'"):
        drive(callbacks.EarlyStopping(monitor="score"), [1.0], monitor="score")
    with pytest.raises(ValueError, match=r"\[EarlyStopping\] mode must be 'auto', 'min' or 'max', got 'minimum'"):
        callbacks.EarlyStopping(mode="minimum")


def test_mode_auto_reads_the_direction_from_the_log_name():
    from ranvier.callbacks.monitor import monitor_direction

    for name in ("loss", "val_loss", "mae", "val_mean_squared_error", "kl_divergence", "squared_hinge"):
        assert monitor_direction(name, "X") == "min", name
    for name in ("accuracy", "val_acc", "sparse_top_k_categorical_accuracy", "val_auc", "precision", "f1_score"):
        assert monitor_direction(name, "X") == "max", name
    with pytest.raises(ValueError, match=r"\[X\] cannot tell whether monitor='learning_rate' should be minimized"):
        monitor_direction("learning_rate", "X")


def test_early_stopping_baseline_start_from_epoch_and_restore_best_weights():
    # baseline 0.5: improvements above it do not reset the wait, so the first plateau stops training
    values = [0.9, 0.8, 0.85, 0.7]
    stop = callbacks.EarlyStopping(patience=2, baseline=0.5)
    _, seen = drive(stop, values)
    assert len(seen) == 3 and stop.stopped_epoch == 2
    stop = callbacks.EarlyStopping(patience=2)
    _, seen = drive(stop, values)
    assert len(seen) == 4 and stop.stopped_epoch == 0
    # the first two epochs are not watched
    stop = callbacks.EarlyStopping(patience=1, start_from_epoch=2)
    _, seen = drive(stop, [1.0, 2.0, 3.0, 4.0, 5.0])
    assert len(seen) == 4 and stop.stopped_epoch == 3 and stop.best == 3.0

    def set_weights_to_epoch(model, epoch):
        model.weights = [np.full(2, epoch, np.float32)]

    stop = callbacks.EarlyStopping(patience=5, restore_best_weights=True)
    model, seen = drive(stop, [3.0, 1.0, 2.0], on_epoch=set_weights_to_epoch)
    assert len(seen) == 3 and not model.stop_training  # not stopped early: restored all the same (Keras 3)
    np.testing.assert_array_equal(model.weights[0], [1, 1])
    assert stop.best_epoch == 1


def test_early_stopping_warns_when_the_monitor_is_missing():
    stop = callbacks.EarlyStopping()
    with pytest.warns(RuntimeWarning, match=r"\[EarlyStopping\] early stopping is conditioned on 'val_loss'"):
        drive(stop, [1.0], monitor="loss")


def test_early_stopping_restores_the_best_weights_in_a_real_fit():
    model = small_model()
    snapshots = []
    stop = callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=100.0, restore_best_weights=True)
    keep = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights()))
    history = model.fit(*regression_data(16), epochs=10, verbose=0, callbacks=[keep, stop])
    assert len(history.history["loss"]) == 2 and stop.stopped_epoch == 1
    for restored, first in zip(model.get_weights(), snapshots[0]):  # no epoch beat the first by 100
        np.testing.assert_array_equal(restored, first)


def test_early_stopping_agrees_with_keras(keras_callbacks):
    sequences = [[1.0, 0.9, 0.95, 0.91, 0.92, 0.5], [0.5, 0.6, 0.4, 0.45, 0.41, 0.7, 0.3], [2.0, 1.0, 0.99, 0.98]]
    settings = [
        {"patience": 2},
        {"patience": 1, "min_delta": 0.05},
        {"patience": 2, "baseline": 0.45},
        {"patience": 1, "start_from_epoch": 3},
    ]
    for values in sequences:
        for kwargs in settings:
            ours, theirs = callbacks.EarlyStopping(**kwargs), keras_callbacks.EarlyStopping(**kwargs)
            _, seen_ours = drive(ours, values)
            _, seen_theirs = drive(theirs, values)
            assert (len(seen_ours), ours.stopped_epoch, ours.best) == (
                len(seen_theirs),
                theirs.stopped_epoch,
                None if theirs.best is None else float(theirs.best),
            ), (values, kwargs)


# ---- LearningRateScheduler ----------------------------------------------------------------------------------


def test_learning_rate_scheduler_sets_each_epoch_and_logs_the_rate():
    model = small_model()
    rates = []
    spy = callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: rates.append(model.optimizer.learning_rate))
    halve = callbacks.LearningRateScheduler(lambda epoch, lr: 0.2 if epoch == 0 else lr / 2)
    history = model.fit(*regression_data(8), epochs=3, verbose=0, callbacks=[halve, spy])
    np.testing.assert_allclose(rates, [0.2, 0.1, 0.05], rtol=1e-7)
    np.testing.assert_allclose(history.history["learning_rate"], [0.2, 0.1, 0.05], rtol=1e-7)
    assert history.history["learning_rate"][0] == float(np.float32(0.2))  # Keras logs its float32 rate


def test_learning_rate_scheduler_one_argument_form_and_bad_returns():
    model = small_model()
    model.fit(
        *regression_data(8),
        epochs=2,
        verbose=0,
        callbacks=[callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))],
    )
    assert model.optimizer.learning_rate == 0.02
    for bad, message in [
        ("0.1", "the schedule must return a float, got '0.1'"),
        (float("nan"), "the schedule returned nan at epoch 0"),
    ]:
        cb = callbacks.LearningRateScheduler(lambda epoch, lr, bad=bad: bad)
        with pytest.raises(ValueError, match=r"\[LearningRateScheduler\] " + message):
            model.fit(*regression_data(8), epochs=1, verbose=0, callbacks=[cb])


def test_learning_rate_scheduler_refuses_an_optimizer_with_a_schedule():
    model = FakeModel(learning_rate=lambda step: 0.1 / (1 + step))
    cb = callbacks.LearningRateScheduler(lambda epoch, lr: lr)
    cb.set_model(model)
    with pytest.raises(TypeError, match=r"\[LearningRateScheduler\] the optimizer's learning_rate is a function"):
        cb.on_epoch_begin(0)


# ---- ReduceLROnPlateau ----------------------------------------------------------------------------------------


def test_reduce_lr_on_plateau_hand_checked_sequence():
    # patience 2, factor 0.5, cooldown 1, min_lr 0.02, from 0.1 (the rate seen before each epoch's end):
    # e0 best 1.0 | e1 0.99995 is within min_delta 1e-4: wait 1 | e2 wait 2 -> 0.05, cooldown 1
    # e3 the cooldown ends (wait 0), then counts: wait 1 | e4 wait 2 -> 0.025, cooldown 1 | e5 wait 1
    # e6 wait 2 -> max(0.0125, 0.02) = 0.02 | e7 wait 1 | e8..e11 at min_lr: no change | e12 0.5 improves
    values = [1.0, 0.99995, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5]
    reduce = callbacks.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.02)
    rates = []
    drive(reduce, values, on_epoch=lambda model, epoch: rates.append(model.optimizer.learning_rate))
    expected = [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025] + [0.02] * 6
    np.testing.assert_allclose(rates, expected, rtol=1e-7)  # Keras reads the rate as float32 before scaling
    assert reduce.best == 0.5 and reduce.wait == 0


def test_reduce_lr_on_plateau_logs_the_rate_before_the_change_and_reduces_in_fit():
    model = small_model()
    reduce = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=100.0)
    history = model.fit(*regression_data(8), epochs=4, verbose=0, callbacks=[reduce])
    expected = [0.01, 0.01, 0.005, 0.0025]  # every epoch after the first is a plateau (min_delta 100)
    np.testing.assert_allclose(history.history["learning_rate"], expected, rtol=1e-6)
    np.testing.assert_allclose(model.optimizer.learning_rate, 0.00125, rtol=1e-6)


def test_reduce_lr_on_plateau_arguments_and_missing_monitor():
    with pytest.raises(ValueError, match=r"\[ReduceLROnPlateau\] factor must be in \[0, 1\), got 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.0)
    reduce = callbacks.ReduceLROnPlateau()
    with pytest.warns(RuntimeWarning, match=r"learning rate reduction is conditioned on 'val_loss'"):
        _, seen = drive(reduce, [1.0], monitor="loss")
    assert seen[0]["learning_rate"] == float(np.float32(0.1))


def test_reduce_lr_on_plateau_reads_but_never_sets_a_schedule():
    model = FakeModel(learning_rate=lambda step: 0.5)
    reduce = callbacks.ReduceLROnPlateau(patience=1)
    _, seen = drive(reduce, [1.0], model=model)
    assert seen[0]["learning_rate"] == 0.5  # the schedule's value is logged
    with pytest.raises(TypeError, match=r"\[ReduceLROnPlateau\] the optimizer's learning_rate is a function"):
        drive(reduce, [1.0, 1.0], model=model)


class ScheduledOptimizer:
    """An optimizer holding a schedule that shows its value and refuses a number (as ranvier's and Keras')."""

    iterations = 3

    @property
    def learning_rate(self):
        return 0.25

    @learning_rate.setter
    def learning_rate(self, value):
        raise TypeError("[SGD] learning_rate: this optimizer was created with a LearningRateSchedule")


def test_callbacks_refuse_to_set_a_schedule_that_shows_its_value():
    model = FakeModel(optimizer=ScheduledOptimizer())
    reduce = callbacks.ReduceLROnPlateau(patience=1)
    with pytest.raises(TypeError, match=r"\[ReduceLROnPlateau\] cannot set the learning rate: \[SGD\] learning_rate"):
        drive(reduce, [1.0, 1.0], model=model)
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: lr / 2)
    scheduler.set_model(model)
    with pytest.raises(TypeError, match=r"\[LearningRateScheduler\] cannot set the learning rate"):
        scheduler.on_epoch_begin(0)
    logs = {}
    scheduler.on_epoch_end(0, logs)
    assert logs == {"learning_rate": 0.25}


def test_reduce_lr_on_plateau_agrees_with_keras(keras_callbacks):
    values = [1.0, 0.99995, 1.0, 0.8, 0.8, 0.8, 0.8, 0.79, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5]
    settings = [
        {"factor": 0.5, "patience": 2, "cooldown": 1, "min_lr": 0.02},
        {"factor": 0.1, "patience": 1, "min_delta": 0.05},
        {"factor": 0.3, "patience": 3},
    ]
    for kwargs in settings:
        rates = {}
        for name, cls in (("ours", callbacks.ReduceLROnPlateau), ("keras", keras_callbacks.ReduceLROnPlateau)):
            cb, seen = cls(**kwargs), []
            record = lambda model, epoch, seen=seen: seen.append(float(model.optimizer.learning_rate))  # noqa: E731
            drive(cb, values, model=FakeModel(optimizer=Float32Rate(0.1)), on_epoch=record)
            rates[name] = seen
        assert rates["ours"] == rates["keras"], kwargs

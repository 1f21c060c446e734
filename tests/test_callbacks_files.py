"""Callbacks that write files: CSVLogger, ModelCheckpoint, BackupAndRestore and TensorBoard, each read back."""

import glob
import os
import struct
import sys
import types

import numpy as np
import pytest
from callback_models import regression_data, small_model

import ranvier
from ranvier import callbacks


def feed(callback, epoch_logs):
    """on_train_begin, one on_epoch_end per logs dict, on_train_end."""
    callback.on_train_begin()
    for epoch, logs in enumerate(epoch_logs):
        callback.on_epoch_end(epoch, dict(logs))
    callback.on_train_end()


# ---- CSVLogger ----------------------------------------------------------------------------------------------


def test_csv_logger_writes_keras_columns_and_values(tmp_path):
    path = tmp_path / "log.csv"
    history = small_model().fit(
        *regression_data(),
        epochs=2,
        batch_size=8,
        validation_split=0.25,
        verbose=0,
        callbacks=[callbacks.CSVLogger(path)],
    )
    h = history.history
    rows = [f"{e},{h['loss'][e]},{h['mae'][e]},{h['val_loss'][e]},{h['val_mae'][e]}\r\n" for e in range(2)]
    assert path.read_bytes().decode() == "epoch,loss,mae,val_loss,val_mae\r\n" + "".join(rows)


def test_csv_logger_without_validation_adds_na_columns_and_appends(tmp_path):
    path = tmp_path / "log.tsv"
    feed(callbacks.CSVLogger(path, separator="\t"), [{"loss": 0.5, "acc": 0.25}, {"loss": 0.125, "acc": 1.0}])
    header = "epoch\tacc\tloss\tval_acc\tval_loss\r\n"
    assert path.read_bytes().decode() == header + "0\t0.25\t0.5\tNA\tNA\r\n1\t1.0\t0.125\tNA\tNA\r\n"
    feed(callbacks.CSVLogger(path, separator="\t", append=True), [{"loss": 0.0625, "acc": 1.0}])
    assert path.read_bytes().decode().count("epoch") == 1  # appended without a second header
    assert path.read_bytes().decode().endswith("0\t1.0\t0.0625\tNA\tNA\r\n")
    feed(callbacks.CSVLogger(path), [{"loss": 1.0, "val_loss": 2.0}, {"loss": 3.0}])  # overwrites
    assert path.read_bytes().decode() == "epoch,loss,val_loss\r\n0,1.0,2.0\r\n1,3.0,NA\r\n"


def test_csv_logger_writes_what_keras_writes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "torch"))
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    logs = [{"loss": 0.6931471805599453, "accuracy": 0.5}, {"loss": 0.1, "accuracy": 0.75, "seq": [1, 2]}]
    feed(callbacks.CSVLogger(tmp_path / "ours.csv"), logs)
    feed(keras.callbacks.CSVLogger(str(tmp_path / "keras.csv")), logs)
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "keras.csv").read_bytes()


# ---- ModelCheckpoint ------------------------------------------------------------------------------------------


def test_model_checkpoint_formats_the_path_with_epoch_and_logs(tmp_path):
    model = small_model()
    x, y = regression_data()
    template = str(tmp_path / "ckpt" / "model-{epoch:02d}-{val_loss:.2f}.safetensors")
    history = model.fit(
        x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[callbacks.ModelCheckpoint(template)]
    )
    names = sorted(os.listdir(tmp_path / "ckpt"))
    assert names == [f"model-{e + 1:02d}-{history.history['val_loss'][e]:.2f}.safetensors" for e in range(2)]
    loaded = ranvier.load_model(tmp_path / "ckpt" / names[-1])
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_model_checkpoint_save_best_only_saves_on_improvement(tmp_path):
    model = small_model()
    path = tmp_path / "best.weights.safetensors"
    saved = []
    checkpoint = callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True, save_weights_only=True)
    checkpoint.set_model(model)
    model.save_weights = lambda p: saved.append(p)
    for epoch, val_loss in enumerate([1.0, 0.5, 0.7, 0.4, 0.4]):
        checkpoint.on_epoch_end(epoch, {"val_loss": val_loss})
    assert len(saved) == 3 and checkpoint.best == 0.4  # epochs 0, 1, 3
    real = callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True, save_weights_only=True)
    trained = small_model()
    trained.fit(*regression_data(), epochs=1, verbose=0, callbacks=[real])
    copy = small_model(seed=99)
    copy.load_weights(path)
    for a, b in zip(copy.get_weights(), trained.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_initial_value_threshold_and_save_freq_in_batches(tmp_path):
    saved = []
    checkpoint = callbacks.ModelCheckpoint(
        tmp_path / "m.safetensors", monitor="val_loss", save_best_only=True, initial_value_threshold=0.5
    )
    model = small_model()
    model.save = lambda p: saved.append(p)
    checkpoint.set_model(model)
    for epoch, value in enumerate([0.9, 0.6, 0.45]):
        checkpoint.on_epoch_end(epoch, {"val_loss": value})
    assert len(saved) == 1  # only 0.45 beats the threshold
    template = str(tmp_path / "e{epoch}-b{batch}.safetensors")
    small_model().fit(
        *regression_data(40),
        batch_size=8,
        epochs=2,
        verbose=0,
        callbacks=[callbacks.ModelCheckpoint(template, save_freq=2)],
    )
    # 5 batches an epoch, every 2nd batch counted across epochs: batches 2, 4 | 1, 3, 5
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["e1-b2.safetensors", "e1-b4.safetensors", "e2-b1.safetensors", "e2-b3.safetensors", "e2-b5.safetensors"]
    )


def test_model_checkpoint_saves_at_the_epochs_keras_saves(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "torch"))
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    values = [0.9, 0.95, 0.5, 0.5, 0.49, 0.7, 0.3]
    for kwargs in ({"save_best_only": True}, {"save_best_only": True, "initial_value_threshold": 0.6}, {}):
        saved = {"ours": [], "keras": []}
        for name, cls, suffix in (
            ("ours", callbacks.ModelCheckpoint, ".safetensors"),
            ("keras", keras.callbacks.ModelCheckpoint, ".keras"),
        ):
            model = types.SimpleNamespace(save=lambda path, overwrite=True, into=saved[name]: into.append(path))
            checkpoint = cls(str(tmp_path / ("e{epoch}" + suffix)), **kwargs)
            checkpoint.set_model(model)
            for epoch, value in enumerate(values):
                checkpoint.on_epoch_end(epoch, {"val_loss": value})
        assert [p.rsplit(".", 1)[0] for p in saved["ours"]] == [p.rsplit(".", 1)[0] for p in saved["keras"]], kwargs


def test_model_checkpoint_refuses_bad_paths_and_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"\[ModelCheckpoint\] ranvier saves safetensors files: .* got 'm.keras'"):
        callbacks.ModelCheckpoint("m.keras")
    with pytest.raises(ValueError, match=r"\[ModelCheckpoint\] save_freq must be 'epoch' or a number"):
        callbacks.ModelCheckpoint("m.safetensors", save_freq="batch")
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "{val_acc:.2f}.safetensors"))
    checkpoint.set_model(small_model())
    with pytest.raises(KeyError, match=r"filepath .* names 'val_acc', which is not among the logs: epoch, loss"):
        checkpoint.on_epoch_end(0, {"loss": 1.0})
    with pytest.warns(RuntimeWarning, match=r"can save the best model only with 'val_loss' in the logs"):
        best = callbacks.ModelCheckpoint(tmp_path / "b.safetensors", save_best_only=True)
        best.set_model(small_model())
        best.on_epoch_end(0, {"loss": 1.0})
    assert (tmp_path / "b.safetensors").exists()


# ---- BackupAndRestore ---------------------------------------------------------------------------------------------


class Interrupt(Exception):
    pass


class InterruptAt(callbacks.Callback):
    """Raises at the start of a given epoch's batch, as a killed job would stop."""

    def __init__(self, epoch, batch=0):
        super().__init__()
        self.at = (epoch, batch)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise Interrupt()


@pytest.mark.parametrize("shuffle", [False, True])
def test_backup_and_restore_resumes_to_the_weights_of_an_uninterrupted_run(tmp_path, shuffle):
    x, y = regression_data(36)
    fit = dict(batch_size=8, epochs=5, verbose=0, shuffle=shuffle)
    reference = small_model("adam")
    reference.fit(x, y, **fit)

    backup_dir = tmp_path / "backup"
    model = small_model("adam")
    with pytest.raises(Interrupt):
        model.fit(x, y, callbacks=[callbacks.BackupAndRestore(backup_dir), InterruptAt(epoch=3, batch=2)], **fit)
    assert os.listdir(backup_dir) == ["latest.safetensors"]  # epochs 0-2 done

    resumed = small_model("adam")  # a new process: the same seed, a fresh model and optimizer
    history = resumed.fit(x, y, callbacks=[callbacks.BackupAndRestore(backup_dir)], **fit)
    assert history.epoch == [3, 4]
    assert resumed.optimizer.iterations == reference.optimizer.iterations == 25
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not backup_dir.exists()  # deleted once training finished


def test_backup_and_restore_keeps_the_learning_rate_and_a_batch_backup_restarts_its_epoch(tmp_path):
    x, y = regression_data(32)
    backup_dir = tmp_path / "b"
    model = small_model()
    model.optimizer.learning_rate = 0.05
    with pytest.raises(Interrupt):
        model.fit(
            x,
            y,
            batch_size=8,
            epochs=5,
            verbose=0,
            callbacks=[callbacks.BackupAndRestore(backup_dir, save_freq=3), InterruptAt(epoch=1, batch=3)],
        )
    # 4 batches an epoch; backups every 3rd batch: epoch 0 batch 3, epoch 1 batch 2 (1 epoch done, 6 steps)
    resumed = small_model()
    starts = []
    spy = callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: starts.append(epoch))
    resumed.fit(
        x,
        y,
        batch_size=8,
        epochs=2,
        verbose=0,
        callbacks=[callbacks.BackupAndRestore(backup_dir, save_freq=3, delete_checkpoint=False), spy],
    )
    assert starts == [1] and resumed.optimizer.iterations == 6 + 4  # epoch 1 again, from its first batch
    assert resumed.optimizer.learning_rate == 0.05
    assert backup_dir.exists()


def test_backup_and_restore_refuses_a_corrupt_backup_and_falls_back_to_the_previous(tmp_path):
    x, y = regression_data(16)
    backup_dir = tmp_path / "b"
    with pytest.raises(Interrupt):
        small_model().fit(
            x,
            y,
            epochs=4,
            verbose=0,
            callbacks=[callbacks.BackupAndRestore(backup_dir, double_checkpoint=True), InterruptAt(epoch=2)],
        )
    assert sorted(os.listdir(backup_dir)) == ["latest.safetensors", "previous.safetensors"]
    latest = backup_dir / "latest.safetensors"
    data = bytearray(latest.read_bytes())
    data[-3] ^= 0xFF  # one flipped bit in the last tensor
    latest.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"\[BackupAndRestore\] .* do not match the SHA-256"):
        small_model().fit(x, y, epochs=4, verbose=0, callbacks=[callbacks.BackupAndRestore(backup_dir)])
    history = small_model().fit(
        x, y, epochs=4, verbose=0, callbacks=[callbacks.BackupAndRestore(backup_dir, double_checkpoint=True)]
    )
    assert history.epoch == [1, 2, 3]  # the previous backup: one epoch done


def test_backup_and_restore_arguments():
    with pytest.raises(ValueError, match=r"\[BackupAndRestore\] backup_dir is empty"):
        callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match=r"\[BackupAndRestore\] save_freq must be 'epoch' or a number of batches"):
        callbacks.BackupAndRestore("b", save_freq="batch")


# ---- TensorBoard ----------------------------------------------------------------------------------------------------


def read_events(folder):
    """(step, tag, kind, value) of every summary in the event files under ``folder``, read as TFRecords:
    a little-endian u64 length, a u32 CRC, the Event protobuf, a u32 CRC."""
    from tensorboardX.proto.event_pb2 import Event

    found = []
    for path in sorted(glob.glob(os.path.join(folder, "events.out.tfevents.*"))):
        data, i = open(path, "rb").read(), 0
        while i < len(data):
            (length,) = struct.unpack("<Q", data[i : i + 8])
            event = Event.FromString(data[i + 12 : i + 12 + length])
            i += 16 + length
            for value in event.summary.value:
                kind = value.WhichOneof("value")
                found.append((event.step, value.tag, kind, value.simple_value if kind == "simple_value" else value))
    return found


def test_tensorboard_writes_epoch_and_batch_scalars_and_histograms(tmp_path):
    pytest.importorskip("tensorboardX")
    model = small_model()
    board = callbacks.TensorBoard(tmp_path, histogram_freq=2, update_freq=3)
    spy = []
    batches = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: spy.append(logs["loss"]))
    history = model.fit(
        *regression_data(40), batch_size=8, epochs=3, validation_split=0.2, verbose=0, callbacks=[batches, board]
    )
    train = read_events(tmp_path / "train")
    scalars = {(step, tag): value for step, tag, kind, value in train if kind == "simple_value"}
    for epoch in range(3):
        assert scalars[(epoch, "epoch_loss")] == pytest.approx(history.history["loss"][epoch], rel=1e-6)
        assert scalars[(epoch, "epoch_mae")] == pytest.approx(history.history["mae"][epoch], rel=1e-6)
        assert scalars[(epoch, "epoch_learning_rate")] == pytest.approx(0.01, rel=1e-6)
    # 4 batches an epoch, 12 in all, counted from 1: every 3rd
    batch_steps = sorted(step for (step, tag) in scalars if tag == "batch_loss")
    assert batch_steps == [3, 6, 9, 12]
    assert [scalars[(s, "batch_loss")] for s in batch_steps] == pytest.approx([spy[s - 1] for s in batch_steps])
    histograms = sorted((step, tag) for step, tag, kind, _ in train if kind == "histo")
    tags = [f"{model.name}/{layer.name}/{w}/histogram" for layer in model.layers for w in ("kernel", "bias")]
    assert histograms == sorted((epoch, tag) for epoch in (0, 2) for tag in tags)
    kernel = next(v for step, tag, kind, v in train if kind == "histo" and step == 2 and tag == tags[0]).histo
    assert kernel.num == 12 and kernel.sum == pytest.approx(float(model.layers[0].kernel.numpy().sum()), abs=1e-5)
    assert any(tag.startswith("keras") for _, tag, kind, _ in train if kind == "tensor")  # write_graph: the config
    validation = read_events(tmp_path / "validation")
    epochs = [(step, tag, value) for step, tag, _, value in validation if tag.startswith("epoch_")]
    assert sorted(tag for _, tag, _ in epochs) == ["epoch_loss"] * 3 + ["epoch_mae"] * 3
    for step, tag, value in epochs:
        assert value == pytest.approx(history.history[f"val_{tag[6:]}"][step], rel=1e-6)
    # as Keras, each validation run also logs its results against the optimizer's step count (4 an epoch)
    by_iteration = {(step, tag): value for step, tag, _, value in validation if tag.startswith("evaluation_")}
    assert sorted(by_iteration) == sorted(
        (4 * (e + 1), f"evaluation_{name}_vs_iterations") for e in range(3) for name in ("loss", "mae")
    )
    for e in range(3):
        assert by_iteration[(4 * (e + 1), "evaluation_loss_vs_iterations")] == pytest.approx(
            history.history["val_loss"][e], rel=1e-6
        )


def test_tensorboard_steps_per_second(tmp_path):
    pytest.importorskip("tensorboardX")
    board = callbacks.TensorBoard(tmp_path, write_graph=False, write_steps_per_second=True, update_freq="batch")
    small_model().fit(*regression_data(16), batch_size=8, epochs=2, verbose=0, callbacks=[board])
    tags = [(step, tag, value) for step, tag, _, value in read_events(tmp_path / "train")]
    assert sorted(step for step, tag, _ in tags if tag == "batch_steps_per_second") == [1, 2, 3, 4]
    assert sorted(step for step, tag, _ in tags if tag == "epoch_steps_per_second") == [0, 1]
    assert all(value > 0 for _, tag, value in tags if tag.endswith("steps_per_second"))
    assert not any(tag.startswith("keras") for _, tag, _ in tags)


def test_tensorboard_arguments(tmp_path):
    pytest.importorskip("tensorboardX")
    with pytest.raises(ValueError, match=r"\[TensorBoard\] update_freq must be 'epoch', 'batch' or an int >= 1"):
        callbacks.TensorBoard(tmp_path, update_freq=0)
    with pytest.raises(ValueError, match=r"\[TensorBoard\] profile_batch is not available"):
        callbacks.TensorBoard(tmp_path, profile_batch=2)
    assert callbacks.TensorBoard(tmp_path, update_freq="batch").update_freq == 1


def test_tensorboard_without_tensorboardx_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install ranvier\[tensorboard\]"):
        callbacks.TensorBoard(tmp_path)

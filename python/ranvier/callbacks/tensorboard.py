"""``TensorBoard``: logs for TensorBoard, written through tensorboardX (``pip install ranvier[tensorboard]``)."""

from __future__ import annotations

import json
import os
import time

import numpy as np

from ranvier.callbacks.callback import Callback
from ranvier.callbacks.learning_rate import current_learning_rate


def _summary_writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError(
            "[TensorBoard] writing TensorBoard logs needs the tensorboardX package: pip install ranvier[tensorboard]"
        ) from None
    return SummaryWriter


class TensorBoard(Callback):
    """Keras 3's layout: ``log_dir/train`` and ``log_dir/validation`` event files, with ``epoch_<log>``
    scalars at step = epoch (``learning_rate`` among the training ones, the ``val_`` logs without their
    prefix under validation); with an integer ``update_freq`` (or "batch" = 1) also ``batch_<log>``
    (the running mean) every that many batches, counted over the whole fit from 1; every
    ``histogram_freq`` epochs (from epoch 0) a ``<weight path>/histogram`` of each weight;
    ``write_graph`` the model's configuration as text under ``keras`` (TensorBoard's graph needs
    TensorFlow); after ``evaluate`` with this callback, ``evaluation_<log>_vs_iterations`` at the
    optimizer's step. ``write_steps_per_second`` adds ``epoch_steps_per_second`` (and
    ``batch_steps_per_second``). Images, profiling and embeddings are not available (Keras' torch
    backend has no profiler either): asking for them raises ValueError."""

    def __init__(
        self,
        log_dir="logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq: int = 0,
        embeddings_metadata=None,
    ):
        super().__init__()
        self._writer_class = _summary_writer_class()
        unsupported = {
            "write_images": write_images,
            "profile_batch": profile_batch,
            "embeddings_freq": embeddings_freq,
            "embeddings_metadata": embeddings_metadata,
        }
        for name, value in unsupported.items():
            if value:
                raise ValueError(f"[TensorBoard] {name} is not available in ranvier (got {name}={value!r})")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not (isinstance(update_freq, int) and update_freq >= 1):
            raise ValueError(f"[TensorBoard] update_freq must be 'epoch', 'batch' or an int >= 1, got {update_freq!r}")
        if not (isinstance(histogram_freq, int) and histogram_freq >= 0):
            raise ValueError(f"[TensorBoard] histogram_freq must be an int >= 0, got {histogram_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq, self.write_graph, self.update_freq = histogram_freq, write_graph, update_freq
        self.write_steps_per_second = write_steps_per_second
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers: dict = {}
        self._global_train_batch = 0
        self._epoch_start = (0, 0.0)  # (optimizer steps, time) when the epoch began
        self._batch_start = 0.0

    # ---- writers, opened on first use (no empty event files)
    def _writer(self, which: str):
        if which not in self._writers:
            folder = self._train_dir if which == "train" else self._val_dir
            self._writers[which] = self._writer_class(folder)
        return self._writers[which]

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # ---- hooks
    def set_model(self, model):
        super().set_model(model)
        self._writers = {}
        if self.write_graph and hasattr(model, "get_config") and type(model).__name__ in ("Sequential", "Functional"):
            config = json.dumps({"class_name": type(model).__name__, "config": model.get_config()}, default=str)
            self._writer("train").add_text("keras", config, 0)

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start = (self.model.optimizer.iterations, time.perf_counter())

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        writer, step = self._writer("train"), self._global_train_batch
        if self.write_steps_per_second:
            writer.add_scalar("batch_steps_per_second", 1.0 / (time.perf_counter() - self._batch_start), step)
        for name, value in (logs or {}).items():
            writer.add_scalar(f"batch_{name}", float(value), step)

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not logs:
            return
        writer = self._writer("val")
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value), optimizer.iterations)
        writer.flush()

    # ---- what is written
    def _log_epoch_metrics(self, epoch: int, logs: dict) -> None:
        if not logs:
            return
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if getattr(self.model, "optimizer", None) is not None:
            train["learning_rate"] = current_learning_rate(self.model.optimizer)
        if self.write_steps_per_second:
            steps, start = self._epoch_start
            train["steps_per_second"] = (self.model.optimizer.iterations - steps) / (time.perf_counter() - start)
        for which, values in (("train", train), ("val", val)):
            for name, value in values.items():
                self._writer(which).add_scalar(f"epoch_{name}", float(value), epoch)

    def _log_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for path, weight in self.model.named_weights():
            writer.add_histogram(f"{path.replace(':', '_')}/histogram", np.asarray(weight.numpy()), epoch)

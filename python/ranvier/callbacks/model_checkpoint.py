"""``ModelCheckpoint``: save the model (or its weights) each epoch or every ``save_freq`` batches."""

from __future__ import annotations

import os
import warnings

from ranvier.callbacks.monitor import MonitorCallback
from ranvier.saving import SUFFIX


class ModelCheckpoint(MonitorCallback):
    """Keras 3's arguments. ``filepath`` may hold ``{epoch:02d}``, ``{batch}`` (with an integer
    ``save_freq``) and any log (``{val_loss:.2f}``); ranvier writes safetensors, so it must end in
    ``.safetensors``. ``save_best_only`` saves only when ``monitor`` improves on the best so far
    (``initial_value_threshold`` is the first best); a missing monitor warns and saves, as Keras."""

    def __init__(
        self,
        filepath,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(monitor, mode, initial_value_threshold)
        self.filepath = os.fspath(filepath)
        if not self.filepath.lower().endswith(SUFFIX):
            raise ValueError(
                f"[ModelCheckpoint] ranvier saves safetensors files: filepath must end in {SUFFIX}, got "
                f"{self.filepath!r} (.keras and .h5 are Keras formats that ranvier does not write)"
            )
        if save_freq != "epoch" and not (isinstance(save_freq, int) and not isinstance(save_freq, bool)):
            raise ValueError(f"[ModelCheckpoint] save_freq must be 'epoch' or a number of batches, got {save_freq!r}")
        if save_freq != "epoch" and save_freq < 1:
            raise ValueError(f"[ModelCheckpoint] save_freq must be >= 1 batches, got {save_freq}")
        self.verbose, self.save_freq = verbose, save_freq
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch: int) -> bool:
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:  # a new epoch
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _file_path(self, epoch: int, batch, logs: dict) -> str:
        fields = dict(logs)
        if batch is not None and "batch" not in fields:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(epoch=epoch + 1, **fields)
        except KeyError as e:
            raise KeyError(
                f"[ModelCheckpoint] filepath {self.filepath!r} names {e}, which is not among the logs: "
                f"epoch, {', '.join(fields)}"
            ) from None

    def _should_save(self, epoch: int, logs: dict, path: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {path}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"[ModelCheckpoint] can save the best model only with {self.monitor!r} in the logs "
                f"({', '.join(logs) or 'none'}); saving this one",
                RuntimeWarning,
                stacklevel=4,
            )
            return True
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, saving model to {path}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save_model(self, epoch: int, batch, logs) -> None:
        logs = logs or {}
        path = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, path):
            return
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if os.path.isdir(path):
            raise IsADirectoryError(f"[ModelCheckpoint] filepath {path!r} is a directory; give a file name")
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

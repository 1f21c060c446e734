"""``BackupAndRestore``: back training up as it goes, and resume an interrupted ``fit`` where it stopped."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from ranvier import saving, utils
from ranvier.callbacks.callback import Callback
from ranvier.device import to_host

_FORMAT = "ranvier.backup/1"


class BackupAndRestore(Callback):
    """Keras 3's callback. At each epoch's end (or every ``save_freq`` batches) one safetensors file in
    ``backup_dir`` receives the weights, the optimizer's state (slots, step count, learning rate) and the
    number of epochs done, written atomically (a crash mid-save leaves the previous backup). The next
    ``fit`` with this callback loads it and starts at the first epoch not done; ranvier also restores its
    random generator, so shuffling resumes as if never interrupted. A backup taken mid-epoch
    (``save_freq`` batches) restarts that epoch from its first batch, as Keras. When training ends,
    ``delete_checkpoint`` removes the backup (the file and, if then empty, ``backup_dir``; Keras
    removes the whole folder). ``double_checkpoint`` keeps the previous backup too and falls back to it
    when the latest cannot be read."""

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint: bool = False, delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError("[BackupAndRestore] backup_dir is empty: give the folder to keep the backup in")
        if save_freq != "epoch" and not (isinstance(save_freq, int) and not isinstance(save_freq, bool)):
            raise ValueError(f"[BackupAndRestore] save_freq must be 'epoch' or a number of batches, got {save_freq!r}")
        if save_freq != "epoch" and save_freq < 1:
            raise ValueError(f"[BackupAndRestore] save_freq must be >= 1 batches, got {save_freq}")
        self.backup_dir = Path(backup_dir)
        self.save_freq, self.double_checkpoint, self.delete_checkpoint = save_freq, double_checkpoint, delete_checkpoint
        self._path = self.backup_dir / f"latest{saving.SUFFIX}"
        self._previous_path = self.backup_dir / f"previous{saving.SUFFIX}"
        self._current_epoch = 0
        self._last_batch_seen = 0
        self._batches_seen_since_last_saving = 0

    # ---- restoring
    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError(
                f"[BackupAndRestore] model '{self.model.name}' must be built before fit: call it on a batch or "
                "give the first layer its input shape"
            )
        self._current_epoch = 0
        if not self._path.exists():
            return
        try:
            self._load(self._path)
        except ValueError:
            if not (self.double_checkpoint and self._previous_path.exists()):
                raise
            self._load(self._previous_path)

    def _load(self, path: Path) -> None:
        with saving._open(path, "BackupAndRestore") as f:
            metadata = f.metadata() or {}
            if metadata.get("format") != _FORMAT:
                raise ValueError(
                    f"[BackupAndRestore] {path} is not a ranvier backup (format {metadata.get('format')!r})"
                )
            optimizer_state = json.loads(metadata["optimizer"])
            optimizer_state["state"] = {}
            for key in f.keys():
                if key.startswith("optimizer/"):
                    index, slot = key[len("optimizer/") :].split("/", 1)
                    optimizer_state["state"].setdefault(int(index), {})[slot] = f.get_tensor(key)
            self.model.optimizer.load_state_dict(optimizer_state)
            saving._load_weights(self.model, f, path, "BackupAndRestore")
        epoch = int(json.loads(metadata["epoch"]))
        utils.rng().bit_generator.state = json.loads(metadata["rng"])
        self._current_epoch = epoch
        self.model._initial_epoch = epoch  # fit starts there (read once, right after on_train_begin)

    # ---- backing up
    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        added = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save()

    def _save(self) -> None:
        optimizer = self.model.optimizer.state_dict()
        tensors = saving._weight_tensors(self.model, "BackupAndRestore")
        for index, slots in optimizer.pop("state").items():
            for slot, value in slots.items():
                tensors[f"optimizer/{index}/{slot}"] = np.ascontiguousarray(to_host(value))
        metadata = {
            "format": _FORMAT,
            "epoch": json.dumps(self._current_epoch),
            "batch": json.dumps(self._last_batch_seen),
            "optimizer": json.dumps(optimizer),
            "rng": json.dumps(utils.rng().bit_generator.state),
        }
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        if self.double_checkpoint and self._path.exists():
            shutil.copyfile(self._path, self._previous_path)
        saving._write(self._path, tensors, metadata, "BackupAndRestore")

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint:
            return
        for path in (self._path, self._previous_path):
            path.unlink(missing_ok=True)
        if self.backup_dir.is_dir() and not any(self.backup_dir.iterdir()):
            os.rmdir(self.backup_dir)

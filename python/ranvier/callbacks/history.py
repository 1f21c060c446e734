"""``History``: every epoch's logs, returned by ``fit`` (and set as ``model.history``)."""

from __future__ import annotations

from ranvier.callbacks.callback import Callback


class History(Callback):
    """``history.history["loss"]`` is a list with one value per epoch; ``history.epoch`` the epoch indices."""

    def __init__(self):
        super().__init__()
        self.history: dict = {}
        self.epoch: list = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self

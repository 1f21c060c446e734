"""``ReduceLROnPlateau``: divide the learning rate when a monitored log has stopped improving."""

from __future__ import annotations

import numpy as np

from ranvier.callbacks.learning_rate import current_learning_rate, set_learning_rate
from ranvier.callbacks.monitor import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Keras 3's rules: after ``patience`` epochs without an improvement larger than ``min_delta`` the
    rate becomes ``max(lr * factor, min_lr)`` (not below ``min_lr``, and not at all once there), then
    ``cooldown`` epochs pass before the wait counts again. Every epoch's logs get ``learning_rate``."""

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ):
        super().__init__(monitor, mode, min_delta=min_delta)
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"[ReduceLROnPlateau] factor must be in [0, 1), got {factor}")
        if min_lr < 0:
            raise ValueError(f"[ReduceLROnPlateau] min_lr must be >= 0, got {min_lr}")
        self.factor, self.min_lr, self.patience = float(factor), float(min_lr), patience
        self.verbose, self.cooldown = verbose, cooldown
        self.cooldown_counter, self.wait = 0, 0

    def on_train_begin(self, logs=None):
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = current_learning_rate(self.model.optimizer)
        current = self._monitor_value(logs, "learning rate reduction")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(epoch):
                self.cooldown_counter, self.wait = self.cooldown, 0

    def _reduce(self, epoch: int) -> bool:
        optimizer = self.model.optimizer
        old = current_learning_rate(optimizer)
        if not old > np.float32(self.min_lr):
            return False
        new = max(old * self.factor, self.min_lr)
        set_learning_rate(optimizer, new, "ReduceLROnPlateau")
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
        return True

"""``LearningRateScheduler``: set the optimizer's learning rate from a function of the epoch."""

from __future__ import annotations

import inspect
import math
import numbers

from ranvier.callbacks.callback import Callback
from ranvier.callbacks.learning_rate import current_learning_rate, set_learning_rate


class LearningRateScheduler(Callback):
    """At each epoch's start the rate becomes ``schedule(epoch, lr)`` (or ``schedule(epoch)`` for a
    one-argument function, Keras' old form); the epoch's logs get ``learning_rate``, as Keras 3."""

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"[LearningRateScheduler] schedule must be callable, got {type(schedule).__name__}")
        self.schedule, self.verbose = schedule, verbose

    def _takes_rate(self) -> bool:
        try:
            inspect.signature(self.schedule).bind(0, 0.0)
        except TypeError:
            return False
        except ValueError:  # no signature to read (some builtins): the two-argument form, as Keras tries first
            return True
        return True

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if self._takes_rate():
            rate = self.schedule(epoch, current_learning_rate(optimizer))
        else:
            rate = self.schedule(epoch)
        if not isinstance(rate, numbers.Real) or isinstance(rate, bool):
            raise ValueError(f"[LearningRateScheduler] the schedule must return a float, got {rate!r}")
        if not math.isfinite(rate) or rate < 0:
            raise ValueError(f"[LearningRateScheduler] the schedule returned {rate} at epoch {epoch}: expected >= 0")
        set_learning_rate(optimizer, rate, "LearningRateScheduler")
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.model.optimizer)

"""``TerminateOnNaN``: stop training at the batch whose loss is NaN or infinite."""

from __future__ import annotations

import math

from ranvier.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Keras 3's: at the end of each training batch, a non-finite ``loss`` stops training (prints where),
    or with ``raise_error=True`` raises RuntimeError at once."""

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        where = f"Epoch {self.epoch + 1}, batch {batch + 1}"
        if self.raise_error:
            raise RuntimeError(f"[TerminateOnNaN] {where}: invalid loss {loss}, terminating training immediately")
        print(f"{where}: invalid loss {loss}, terminating training")
        self.model.stop_training = True

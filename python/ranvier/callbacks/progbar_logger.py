"""``ProgbarLogger``: the progress fit prints (fit adds one when verbose; it also draws evaluate and predict bars)."""

from __future__ import annotations

from ranvier.callbacks.callback import Callback
from ranvier.progress import Progbar


class ProgbarLogger(Callback):
    """As Keras 3: ``verbose=1`` a bar redrawn after each batch on a terminal, ``verbose=2`` one line per
    epoch; "Epoch e/E" before each epoch when there are several; the validation run inside ``fit`` is
    silent; ``evaluate``/``predict`` get their own bar. The counts come from ``params``
    (``epochs``, ``steps``, ``verbose``; "auto" is 1)."""

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs=None):
        self._called_in_fit = True  # validation inside fit is silent

    def on_train_end(self, logs=None):
        self._called_in_fit = False

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch, None)  # not the predictions

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(logs)

    def _reset_progbar(self) -> None:
        """A new bar, its clock started now (the start of the epoch, evaluation or prediction)."""
        self.seen = 0
        self.progbar = None
        self._maybe_init_progbar()

    def _maybe_init_progbar(self) -> None:
        if self.progbar is None and self.verbose:
            self.progbar = Progbar(self.target or 0, verbose=self.verbose)

    def _update_progbar(self, batch: int, logs) -> None:
        self._maybe_init_progbar()
        self.seen = batch + 1
        if self.verbose == 1 and self.target:
            self.progbar.update(self.seen, logs or {})

    def _finalize_progbar(self, logs) -> None:
        self._maybe_init_progbar()
        if self.progbar is None:
            return
        if not self.target:  # steps unknown beforehand: those seen
            self.progbar.steps = self.seen
        self.progbar.finish(logs or {})

"""``MonitorCallback``: what EarlyStopping, ReduceLROnPlateau and ModelCheckpoint share, as in Keras 3:
which way a monitored log should move, and whether a value improves on the best so far by ``min_delta``."""

from __future__ import annotations

import operator
import warnings

from ranvier.callbacks.callback import Callback

# Log names (their endings) that improve upwards / downwards, for mode="auto": Keras' metrics' directions.
_UP = (
    "acc",
    "accuracy",
    "auc",
    "precision",
    "recall",
    "f1_score",
    "fbeta_score",
    "r2_score",
    "iou",
    "cosine_similarity",
)
_DOWN = ("loss", "mae", "mse", "error", "crossentropy", "hinge", "divergence", "poisson", "logcosh")


def monitor_direction(monitor: str, who: str) -> str:
    """ "min" or "max" for mode="auto": loss and error logs fall, accuracy logs rise; anything else is
    refused (Keras 3 too) rather than guessed."""
    name = monitor.removeprefix("val_")
    if name.endswith(_DOWN):
        return "min"
    if name.endswith(_UP):
        return "max"
    raise ValueError(
        f"[{who}] cannot tell whether monitor={monitor!r} should be minimized or maximized: pass mode='min' "
        "or mode='max'"
    )


class MonitorCallback(Callback):
    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline=None, min_delta: float = 0.0):
        super().__init__()
        who = type(self).__name__
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"[{who}] mode must be 'auto', 'min' or 'max', got {mode!r}")
        if not isinstance(monitor, str):
            raise TypeError(f"[{who}] monitor must be the name of a log (str), got {type(monitor).__name__}")
        self.monitor, self.mode = monitor, mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self) -> None:
        mode = self.mode if self.mode != "auto" else monitor_direction(self.monitor, type(self).__name__)
        self.monitor_op = operator.lt if mode == "min" else operator.gt

    def _is_improvement(self, value, reference) -> bool:
        """Better than ``reference`` by more than ``min_delta`` (always, when there is no reference yet)."""
        if reference is None:
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        delta = -self.min_delta if self.monitor_op is operator.lt else self.min_delta
        return bool(self.monitor_op(value - delta, reference))

    def _monitor_value(self, logs, what: str):
        """The monitored log, or None with a warning naming the logs there are (as Keras)."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"[{type(self).__name__}] {what} is conditioned on {self.monitor!r}, which is not among the "
                f"logs: {', '.join(logs) or 'none'}",
                RuntimeWarning,
                stacklevel=3,
            )
        return value

"""Reading and setting an optimizer's learning rate from a callback (LearningRateScheduler,
ReduceLROnPlateau, TensorBoard): a float rate is read and set; a schedule is read, never set."""

from __future__ import annotations

import numbers

import numpy as np


def current_learning_rate(optimizer) -> float:
    """The rate the next step uses, rounded to float32 as Keras logs it (its rate is a float32 variable)."""
    rate = optimizer.learning_rate
    if not isinstance(rate, numbers.Real) and callable(rate):  # a schedule of the step count
        rate = rate(optimizer.iterations)
    return float(np.float32(rate))


def set_learning_rate(optimizer, value, who: str) -> None:
    """Set a float learning rate; refuse (TypeError, as Keras) an optimizer whose rate is a schedule,
    whether it shows the schedule itself or its value (and refuses the setting)."""
    advice = "create the optimizer with a float learning_rate to use this callback, or let the schedule set the rate"
    if not isinstance(optimizer.learning_rate, numbers.Real):
        raise TypeError(
            f"[{who}] the optimizer's learning_rate is a {type(optimizer.learning_rate).__name__} (a schedule), "
            f"so it cannot be set: {advice}"
        )
    try:
        optimizer.learning_rate = float(value)
    except TypeError as e:
        raise TypeError(f"[{who}] cannot set the learning rate: {e}") from None

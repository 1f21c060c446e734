"""Activation layers with parameters, as Keras groups them: LeakyReLU, ELU, ReLU, Softmax, PReLU."""

from __future__ import annotations

import numbers

from ranvier import activations
from ranvier import functional as F
from ranvier.layers.base import Layer, check_float, check_int

_FLOAT32_MAX = 3.4028234663852886e38


class LeakyReLU(Layer):
    """y = x where x > 0, negative_slope * x elsewhere; any shape. Keras 3's layer default
    negative_slope is 0.3 (its function's is 0.2)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = check_float(negative_slope, self._label(), "negative_slope", 0.0, _FLOAT32_MAX)

    def _label(self):
        return f"LeakyReLU '{self.name}'"

    def call(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """y = x where x > 0, alpha * (exp(x) - 1) elsewhere; any shape."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = check_float(alpha, f"ELU '{self.name}'", "alpha", 0.0, _FLOAT32_MAX)

    def call(self, x):
        return F.elu(x, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class ReLU(Layer):
    """y = (x if x > threshold else 0), clipped to [0, max_value] when there is one, less
    negative_slope * max(threshold - x, 0); any shape. With the defaults, max(x, 0)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        label = f"ReLU '{self.name}'"
        self.max_value = None if max_value is None else check_float(max_value, label, "max_value", 0.0, _FLOAT32_MAX)
        self.negative_slope = check_float(negative_slope, label, "negative_slope", 0.0, _FLOAT32_MAX)
        self.threshold = check_float(threshold, label, "threshold", 0.0, _FLOAT32_MAX)

    def call(self, x):
        return activations.relu(x, self.negative_slope, self.max_value, self.threshold)

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class Softmax(Layer):
    """y = exp(x - max) / sum(exp(x - max)) along ``axis`` (an int, negative from the end); any shape."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"[Softmax '{self.name}'] axis must be an integer, got {axis!r}")
        self.axis = int(axis)

    def call(self, x):
        return F.softmax(x, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class PReLU(Layer):
    """y = max(x, 0) - alpha * max(-x, 0) with a learned ``alpha`` of shape input_shape[1:] (axes in
    ``shared_axes``, counted with the batch axis as 0, have size 1 and share one alpha), as Keras."""

    def __init__(self, alpha_initializer="zeros", shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        label = f"PReLU '{self.name}'"
        axes = [] if shared_axes is None else shared_axes
        axes = list(axes) if isinstance(axes, (list, tuple)) else [axes]
        self.shared_axes = [check_int(a, label, "shared_axes entry") for a in axes] if shared_axes is not None else None
        self.alpha_initializer = alpha_initializer

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis > len(shape):
                raise ValueError(
                    f"[PReLU '{self.name}'] shared_axes entry {axis} is beyond the input's rank {len(shape) + 1}"
                )
            shape[axis - 1] = 1
        self.alpha = self.add_weight("alpha", shape, self.alpha_initializer)

    def call(self, x):
        return F.sub(F.relu(x), F.mul(self.alpha, F.relu(F.neg(x))))

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": self.alpha_initializer,
            "shared_axes": self.shared_axes,
        }

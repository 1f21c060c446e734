"""TimeDistributed: one layer applied to every step of a sequence."""

from __future__ import annotations

from ranvier import functional as F
from ranvier.layers.base import Layer, layer_from_config, layer_to_config, shape_str


class TimeDistributed(Layer):
    """y[:, t] = layer(x[:, t]) for every step t: x (batch, time, ...) -> (batch, time, ...layer's output).

    The time axis is folded into the batch (a reshape, no copy for a contiguous
    input), the inner layer runs once on (batch * time, ...), and its output is
    unfolded; the inner layer's weights are shared by every step.
    """

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise TypeError(f"[TimeDistributed '{self.name}'] layer must be a Layer instance, got {layer!r}")
        self.layer = layer

    def build(self, input_shape):
        self._check_rank(input_shape)
        if not self.layer.built:
            self.layer.build_from((None,) + tuple(input_shape[2:]))

    def _check_rank(self, shape):
        if len(shape) < 3:
            raise ValueError(
                f"[TimeDistributed '{self.name}'] expects inputs of shape (batch, time, ...) with at least one "
                f"feature axis, got a batch of shape {shape_str(tuple(shape))}"
            )

    def call(self, x):
        self._check_rank(x.shape)
        batch, steps = x.shape[:2]
        y = self.layer(F.reshape(x, (batch * steps,) + tuple(x.shape[2:])))
        return F.reshape(y, (batch, steps) + tuple(y.shape[1:]))

    def get_config(self):
        return {**super().get_config(), "layer": layer_to_config(self.layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        config = dict(config)
        return cls(layer_from_config(config.pop("layer"), custom_objects), **config)

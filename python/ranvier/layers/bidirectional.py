"""Bidirectional: a recurrent layer run forwards and backwards over the sequence, outputs merged (Keras)."""

from __future__ import annotations

from ranvier import functional as F
from ranvier.layers.base import Layer, layer_from_config, layer_to_config
from ranvier.layers.recurrent import _Recurrent

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _copy(layer: _Recurrent, name: str, go_backwards: bool) -> _Recurrent:
    """A fresh layer of layer's configuration, renamed, with go_backwards set."""
    config = {**layer.get_config(), "name": name, "go_backwards": go_backwards}
    config.pop("input_shape", None)  # built by the wrapper's first input
    return type(layer).from_config(config)


class Bidirectional(Layer):
    """Keras Bidirectional over SimpleRNN, LSTM or GRU.

    ``forward_layer`` is a copy of ``layer`` named ``forward_<name>``;
    ``backward_layer`` is ``backward_layer`` if given, else a copy with
    go_backwards=True named ``backward_<name>``; they must differ in
    go_backwards and agree in return_sequences and return_state. With
    return_sequences the backward outputs are put back in time order before
    merging: ``merge_mode`` "concat" (last axis), "sum", "mul", "ave", or None
    for the pair [y_forward, y_backward]. With return_state the result also
    holds the forward layer's final states, then the backward layer's. An
    initial_state list gives the forward layer its first half, the backward
    layer the rest. Weights: the forward layer's, then the backward layer's.
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        if isinstance(layer, _Recurrent) and kwargs.get("input_shape") is None and layer._init_input_shape:
            kwargs["input_shape"] = layer._init_input_shape  # the copies are made without it: the wrapper builds
        super().__init__(**kwargs)
        label = f"Bidirectional '{self.name}'"
        for what, value in (("layer", layer), ("backward_layer", backward_layer)):
            if value is not None and not isinstance(value, _Recurrent):
                raise TypeError(f"[{label}] {what} must be a SimpleRNN, LSTM or GRU layer, got {value!r}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"[{label}] merge_mode must be one of {MERGE_MODES}, got {merge_mode!r}")
        self.merge_mode = merge_mode
        self.forward_layer = _copy(layer, f"forward_{layer.name.removeprefix('forward_')}", layer.go_backwards)
        if backward_layer is None:
            backward_layer = _copy(layer, f"backward_{layer.name.removeprefix('backward_')}", True)
        self.backward_layer = backward_layer
        if self.forward_layer.go_backwards == backward_layer.go_backwards:
            raise ValueError(
                f"[{label}] the forward and backward layers must differ in go_backwards, "
                f"both have go_backwards={backward_layer.go_backwards}"
            )
        for attribute in ("return_sequences", "return_state"):
            f_value, b_value = getattr(self.forward_layer, attribute), getattr(backward_layer, attribute)
            if f_value != b_value:
                raise ValueError(
                    f"[{label}] the forward and backward layers must agree on {attribute}, "
                    f"got {f_value} (forward) and {b_value} (backward)"
                )
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    def call(self, x, initial_state=None):
        forward_state = backward_state = None
        if initial_state is not None:
            states = list(initial_state)
            half = len(states) // 2
            forward_state, backward_state = states[:half], states[half:]
        y = self.forward_layer(x, initial_state=forward_state)
        y_rev = self.backward_layer(x, initial_state=backward_state)
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = F.reverse_time(y_rev)
        if self.merge_mode is None:
            return (y, y_rev, *states) if self.return_state else (y, y_rev)
        if self.merge_mode == "concat":
            out = F.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            out = F.add(y, y_rev)
        elif self.merge_mode == "mul":
            out = F.mul(y, y_rev)
        else:
            out = F.mul(F.add(y, y_rev), 0.5)
        return (out, *states) if self.return_state else out

    def get_config(self):
        return {
            **super().get_config(),
            "layer": layer_to_config(self.forward_layer),
            "merge_mode": self.merge_mode,
            "backward_layer": layer_to_config(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        config = dict(config)
        config["layer"] = layer_from_config(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:  # absent from configs written by hand
            config["backward_layer"] = layer_from_config(config["backward_layer"], custom_objects)
        return cls(**config)

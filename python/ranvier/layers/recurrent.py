"""Recurrent layers over (batch, timesteps, features) sequences, Keras layouts."""

from __future__ import annotations

import numpy as np

from ranvier import functional as F
from ranvier.layers.base import Layer, check_bool, check_int


class _Recurrent(Layer):
    gates = 1

    def __init__(
        self,
        units: int,
        return_sequences: bool = False,
        return_state: bool = False,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.units = check_int(units, name, "units")
        self.return_sequences = check_bool(return_sequences, name, "return_sequences")
        self.return_state = check_bool(return_state, name, "return_state")
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"[{type(self).__name__} '{self.name}'] expects (batch, timesteps, features), "
                f"got inputs of shape {input_shape}"
            )
        cols = self.gates * self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], cols), self.kernel_initializer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, cols), self.recurrent_initializer)
        self.bias = self.add_weight("bias", (cols,), self.bias_initializer)

    def _result(self, out, states):
        return (out, *states) if self.return_state else out

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
        }


class SimpleRNN(_Recurrent):
    """h_t = tanh(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias).

    kernel (features, units), recurrent_kernel (units, units), bias (units,).
    Returns h_T (batch, units), or every h_t (batch, timesteps, units) with
    return_sequences; with return_state also [h_T].
    """

    def call(self, x, initial_state=None):
        h0 = (
            None
            if initial_state is None
            else (initial_state[0] if isinstance(initial_state, (list, tuple)) else initial_state)
        )
        out, h = F.simple_rnn(x, self.kernel, self.recurrent_kernel, self.bias, h0, self.return_sequences)
        return self._result(out, (h,))


class LSTM(_Recurrent):
    """Keras LSTM: gates (i, f, c, o) in that order along the 4*units axis.

    i, f, o = sigmoid(...), g = tanh(...), c_t = f c_{t-1} + i g, h_t = o tanh(c_t).
    kernel (features, 4u), recurrent_kernel (u, 4u), bias (4u,); the forget
    gate's bias starts at 1 (Keras' unit_forget_bias). Returns h_T, or the
    sequence with return_sequences; with return_state also [h_T, c_T].
    """

    gates = 4

    def __init__(self, units: int, unit_forget_bias: bool = True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = check_bool(unit_forget_bias, "LSTM", "unit_forget_bias")

    def build(self, input_shape):
        super().build(input_shape)
        if self.unit_forget_bias:
            self.bias.data[self.units : 2 * self.units] = np.float32(1.0)

    def call(self, x, initial_state=None):
        h0, c0 = (None, None) if initial_state is None else tuple(initial_state)
        out, h, c = F.lstm(x, self.kernel, self.recurrent_kernel, self.bias, h0, c0, self.return_sequences)
        return self._result(out, (h, c))

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}

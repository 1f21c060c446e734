"""Recurrent layers over (batch, timesteps, features) sequences, Keras layouts.

Each layer runs its fused kernel (``ranvier.functional`` lstm/gru/simple_rnn:
the whole sequence in one op) unless the configuration needs what the kernel
does not do: an activation other than tanh (sigmoid for the gates), GRU's
reset_after=False, or recurrent_dropout in training. Then it runs step by
step over ``ranvier.functional`` ops, as Keras falls back from cuDNN; the two
paths compute the same function.

Keras' dropout semantics: ``dropout`` multiplies the inputs by one mask per
sequence, the same at every step; ``recurrent_dropout`` multiplies h_{t-1}
by one mask per sequence before the recurrent product. With
recurrent_dropout > 0 the LSTM and GRU draw one mask per gate (Keras'
implementation 1). ``go_backwards`` reads the sequence reversed and returns
the outputs in that (reversed) order, as Keras does.
"""

from __future__ import annotations

import numpy as np

from ranvier import activations, ops, utils
from ranvier import functional as F
from ranvier.device import array_module
from ranvier.layers.base import Layer, check_bool, check_float, check_int


class _Recurrent(Layer):
    gates = 1
    has_recurrent_activation = False

    def __init__(
        self,
        units: int,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.units = check_int(units, name, "units")
        self.activation = self._check_activation(activation, "activation")
        self.recurrent_activation = self._check_activation(recurrent_activation, "recurrent_activation")
        self.use_bias = check_bool(use_bias, name, "use_bias")
        self.dropout = self._check_rate(dropout, "dropout")
        self.recurrent_dropout = self._check_rate(recurrent_dropout, "recurrent_dropout")
        self.return_sequences = check_bool(return_sequences, name, "return_sequences")
        self.return_state = check_bool(return_state, name, "return_state")
        self.go_backwards = check_bool(go_backwards, name, "go_backwards")
        if check_bool(stateful, name, "stateful"):
            raise ValueError(
                f"[{name}] stateful=True is not supported: ranvier does not carry states between batches; "
                "pass the last states as initial_state (return_state=True) instead"
            )
        if check_bool(unroll, name, "unroll"):
            raise ValueError(
                f"[{name}] unroll=True is not supported: the recurrence always runs as a loop "
                "(a fused kernel, or step by step); use unroll=False"
            )
        if seed is not None:
            check_int(seed, name, "seed", minimum=0, maximum=2**63 - 1)
        self.seed = seed
        # a seeded layer draws new masks each call from its own generator
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer

    def _check_activation(self, value, what):
        name = type(self).__name__
        if not (isinstance(value, str) or callable(value)):
            raise TypeError(f"[{name}] {what} must be an activation name or a callable, got {value!r}")
        if isinstance(value, str) and value not in activations.NAMES:
            raise ValueError(
                f"[{name}] {what} must be one of {', '.join(activations.NAMES)} or a callable, got {value!r}"
            )
        return value

    def _check_rate(self, value, what):
        rate = check_float(value, type(self).__name__, what, 0.0, 1.0)
        if rate == 1.0:
            raise ValueError(f"[{type(self).__name__}] {what} must be in [0, 1), got {value}")
        return rate

    def _bias_shape(self):
        return (self.gates * self.units,)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"[{type(self).__name__} '{self.name}'] expects (batch, timesteps, features), "
                f"got inputs of shape {input_shape}"
            )
        cols = self.gates * self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], cols), self.kernel_initializer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, cols), self.recurrent_initializer)
        self.bias = self.add_weight("bias", self._bias_shape(), self.bias_initializer) if self.use_bias else None

    # ---- call ---------------------------------------------------------------------------------------

    def _fused(self, training: bool) -> bool:
        """Whether the fused kernel computes this configuration (else the step-by-step path)."""
        defaults = self.activation == "tanh" and (
            not self.has_recurrent_activation or self.recurrent_activation == "sigmoid"
        )
        return defaults and not (training and self.recurrent_dropout > 0)

    def _mask(self, like, shape, rate):
        """A dropout mask (0 or 1 / (1 - rate)) of ``shape``, on like's device."""
        xp = array_module(like)
        seed = int(self._rng.integers(0, 2**63 - 1)) if self._rng is not None else utils.next_seed()
        mask, _ = ops.dropout(xp.ones(shape, np.float32), rate, seed, training=True)
        return mask

    def _initial_states(self, initial_state) -> list:
        count = len(self._state_names())
        if initial_state is None:
            return [None] * count
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if len(states) != count:
            raise ValueError(
                f"[{type(self).__name__} '{self.name}'] initial_state must hold {count} state(s) "
                f"({', '.join(self._state_names())}), got {len(states)}"
            )
        return states

    def _bias_or_zeros(self, like):
        if self.bias is not None:
            return self.bias
        return array_module(like).zeros(self._bias_shape(), np.float32)

    def call(self, x, initial_state=None):
        x = F.as_tensor(x)
        states = self._initial_states(initial_state)
        training = self.training
        if x.shape[1] == 0:
            raise ValueError(
                f"[{type(self).__name__} '{self.name}'] inputs must have at least one time step, got shape {x.shape}"
            )
        if self.go_backwards:
            x = F.reverse_time(x)
        batch, _, features = x.shape
        fused = self._fused(training)
        per_gate = not fused and self.recurrent_dropout > 0
        n_masks = self.gates if per_gate else 1
        input_masks = [None] * self.gates
        if training and self.dropout > 0:
            drawn = [self._mask(x.data, (batch, 1, features), self.dropout) for _ in range(n_masks)]
            input_masks = drawn * (self.gates // n_masks)
        if fused:
            if input_masks[0] is not None:
                x = F.mul(x, input_masks[0])
            out, *final = self._fused_call(x, states)
        else:
            recurrent_masks = [None] * self.gates
            if training and self.recurrent_dropout > 0:
                drawn = [self._mask(x.data, (batch, self.units), self.recurrent_dropout) for _ in range(n_masks)]
                recurrent_masks = drawn * (self.gates // n_masks)
            out, *final = self._step_call(x, states, input_masks, recurrent_masks)
        return (out, *final) if self.return_state else out

    def _projections(self, x, input_masks, biases):
        """Per gate g, the steps of (x * mask_g) @ kernel_g + bias_g: a list of T (B, U) Tensors each."""
        U = self.units
        steps = []
        for g in range(self.gates):
            xg = x if input_masks[g] is None else F.mul(x, input_masks[g])
            kernel_g = F.getitem(self.kernel, (slice(None), slice(g * U, (g + 1) * U)))
            steps.append(F.unstack_time(F.linear(xg, kernel_g, biases[g])))
        return steps

    def _recurrent_weights(self):
        U = self.units
        return [F.getitem(self.recurrent_kernel, (slice(None), slice(g * U, (g + 1) * U))) for g in range(self.gates)]

    def _bias_blocks(self, row=None):
        """The gates' blocks of the bias (of bias[row] for the GRU's two rows), or Nones without bias."""
        if self.bias is None:
            return [None] * self.gates
        U = self.units
        lead = () if row is None else (row,)
        return [F.getitem(self.bias, lead + (slice(g * U, (g + 1) * U),)) for g in range(self.gates)]

    @staticmethod
    def _recurrent_term(h, mask, weight):
        """(h * mask) @ weight, or None for the zero initial state (it takes no part, as in the kernels)."""
        if h is None:
            return None
        return F.matmul(h if mask is None else F.mul(h, mask), weight)

    def _sequence_result(self, hs, final):
        out = F.stack(hs, axis=1) if self.return_sequences else hs[-1]
        return (out, *final)

    def get_config(self):
        config = {
            **super().get_config(),
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "seed": self.seed,
        }
        if self.has_recurrent_activation:
            config["recurrent_activation"] = self.recurrent_activation
        return config


def _plus(a, b):
    """a + b where either may be None (a term that takes no part)."""
    if a is None:
        return b
    return a if b is None else F.add(a, b)


class SimpleRNN(_Recurrent):
    """h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias), activation tanh by default.

    kernel (features, units), recurrent_kernel (units, units), bias (units,).
    Returns h_T (batch, units), or every h_t (batch, timesteps, units) with
    return_sequences; with return_state also [h_T].
    """

    def __init__(self, units: int, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:
            raise TypeError("[SimpleRNN] has no recurrent_activation (Keras' SimpleRNN has none)")
        super().__init__(units, activation=activation, **kwargs)

    @staticmethod
    def _state_names():
        return ("h",)

    def _fused_call(self, x, states):
        return F.simple_rnn(
            x, self.kernel, self.recurrent_kernel, self._bias_or_zeros(x.data), states[0], self.return_sequences
        )

    def _step_call(self, x, states, input_masks, recurrent_masks):
        act = activations.get(self.activation)
        (xs,) = self._projections(x, input_masks, [self.bias])
        h, hs = states[0], []
        for x_t in xs:
            h = act(_plus(x_t, self._recurrent_term(h, recurrent_masks[0], self.recurrent_kernel)))
            hs.append(h)
        return self._sequence_result(hs, (h,))


class LSTM(_Recurrent):
    """Keras LSTM: gates (i, f, c, o) in that order along the 4*units axis.

    i, f, o = recurrent_activation(...) (sigmoid), g = activation(...) (tanh),
    c_t = f c_{t-1} + i g, h_t = o activation(c_t). kernel (features, 4u),
    recurrent_kernel (u, 4u), bias (4u,); the forget gate's bias starts at 1
    (Keras' unit_forget_bias). Returns h_T, or the sequence with
    return_sequences; with return_state also [h_T, c_T].
    """

    gates = 4
    has_recurrent_activation = True

    def __init__(self, units: int, unit_forget_bias: bool = True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = check_bool(unit_forget_bias, "LSTM", "unit_forget_bias")

    @staticmethod
    def _state_names():
        return ("h", "c")

    def build(self, input_shape):
        super().build(input_shape)
        if self.unit_forget_bias and self.bias is not None:
            self.bias.data[self.units : 2 * self.units] = np.float32(1.0)

    def _fused_call(self, x, states):
        h0, c0 = states
        return F.lstm(x, self.kernel, self.recurrent_kernel, self._bias_or_zeros(x.data), h0, c0, self.return_sequences)

    def _step_call(self, x, states, input_masks, recurrent_masks):
        act, gate = activations.get(self.activation), activations.get(self.recurrent_activation)
        xs = self._projections(x, input_masks, self._bias_blocks())
        weights = self._recurrent_weights()
        (h, c), hs = states, []
        for t in range(len(xs[0])):
            z = [_plus(xs[g][t], self._recurrent_term(h, recurrent_masks[g], weights[g])) for g in range(4)]
            i, f, o = gate(z[0]), gate(z[1]), gate(z[3])
            c = _plus(None if c is None else F.mul(f, c), F.mul(i, act(z[2])))
            h = F.mul(o, act(c))
            hs.append(h)
        return self._sequence_result(hs, (h, c))

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRU(_Recurrent):
    """Keras GRU: gates (z, r, h) in that order along the 3*units axis.

    With reset_after=True (default; bias (2, 3u): input bias, recurrent bias):
        [xz xr xh] = x_t @ kernel + bias[0];  [hz hr hn] = h_{t-1} @ recurrent_kernel + bias[1]
        z = sigmoid(xz + hz);  r = sigmoid(xr + hr);  hh = tanh(xh + r * hn)
    With reset_after=False (bias (3u,) on the inputs only):
        hh = tanh(xh + (r * h_{t-1}) @ recurrent_kernel_h)
    then h_t = z * h_{t-1} + (1 - z) * hh (sigmoid and tanh being recurrent_activation
    and activation). kernel (features, 3u), recurrent_kernel (u, 3u). Returns h_T,
    or the sequence with return_sequences; with return_state also [h_T].
    """

    gates = 3
    has_recurrent_activation = True

    def __init__(self, units: int, reset_after: bool = True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = check_bool(reset_after, "GRU", "reset_after")

    @staticmethod
    def _state_names():
        return ("h",)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _fused(self, training):
        return self.reset_after and super()._fused(training)

    def _fused_call(self, x, states):
        return F.gru(
            x, self.kernel, self.recurrent_kernel, self._bias_or_zeros(x.data), states[0], self.return_sequences
        )

    def _step_call(self, x, states, input_masks, recurrent_masks):
        act, gate = activations.get(self.activation), activations.get(self.recurrent_activation)
        after = self.reset_after
        input_bias = self._bias_blocks(0 if after else None)
        recurrent_bias = self._bias_blocks(1) if after else [None] * 3
        xs = self._projections(x, input_masks, input_bias)
        weights = self._recurrent_weights()
        h, hs = states[0], []
        for t in range(len(xs[0])):
            hz, hr = (_plus(self._recurrent_term(h, recurrent_masks[g], weights[g]), recurrent_bias[g]) for g in (0, 1))
            z, r = gate(_plus(xs[0][t], hz)), gate(_plus(xs[1][t], hr))
            if after:
                hn = _plus(self._recurrent_term(h, recurrent_masks[2], weights[2]), recurrent_bias[2])
                candidate = None if hn is None else F.mul(r, hn)
            else:
                masked = None if h is None else F.mul(r, h)
                candidate = self._recurrent_term(masked, recurrent_masks[2], weights[2])
            hh = act(_plus(xs[2][t], candidate))
            new = F.mul(F.sub(1.0, z), hh)
            h = new if h is None else F.add(F.mul(z, h), new)
            hs.append(h)
        return self._sequence_result(hs, (h,))

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}

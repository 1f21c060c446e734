"""LSTM, GRU and SimpleRNN, plainly: one loop over time steps, Keras layout and gate order.

``lstm`` with ``return_cache=True`` also returns what backpropagation through
time needs, a dict of arrays:

- ``"gates"`` (B, T, 4U): the gate activations ``[i f g o]`` of every step
  (i, f, o after the sigmoid, g after the tanh),
- ``"c"`` (B, T, U): the cell state after every step,
- ``"h"`` (B, T, U): the hidden state after every step.

``gru``'s cache holds ``"gates"`` (B, T, 4U): ``[z r hh hn]`` of every step (z, r
after the sigmoid, the candidate hh after the tanh, and hn = h_{t-1} @
recurrent_kernel_h + recurrent_bias_h, which the reset gate scales), and ``"h"``.
``simple_rnn``'s cache holds only ``"h"``. The ``*_backward`` functions take
that cache; ``dh_seq`` is the gradient of the output sequence (B, T, U), or of
the last output only (B, U) when the forward ran with
``return_sequences=False``, or None.
"""

from __future__ import annotations

import numpy as np

from ranvier.reference.activation import sigmoid

__all__ = ["gru", "gru_backward", "lstm", "lstm_backward", "simple_rnn", "simple_rnn_backward"]


def rnn_outputs(h_seq, states, cache, return_sequences, return_state, return_cache):
    """The result of an RNN op: output, then the final states, then the cache, as asked.

    ``states`` are the final states ((h_T, c_T) for the LSTM, (h_T,) for SimpleRNN).
    """
    output = h_seq if return_sequences else h_seq[:, -1]
    if not return_state and not return_cache:
        return output
    return (output,) + (tuple(states) if return_state else ()) + ((cache,) if return_cache else ())


def _zeros_or(a, shape, dtype):
    return np.zeros(shape, dtype) if a is None else a


def _sequence_grad(dh_seq, shape, dtype):
    """dh_seq as (B, T, U): None is zeros, (B, U) is the gradient of the last step."""
    if dh_seq is not None and dh_seq.ndim == 3:
        return dh_seq
    full = np.zeros(shape, dtype)
    if dh_seq is not None:
        full[:, -1] = dh_seq
    return full


def lstm(
    x, kernel, recurrent_kernel, bias, h0=None, c0=None, return_sequences=True, return_state=False, return_cache=False
):
    """Keras LSTM: x (B, T, F), kernel (F, 4U), recurrent_kernel (U, 4U), bias (4U,)."""
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    dtype = np.result_type(x, kernel)
    h = _zeros_or(h0, (batch, units), dtype)
    c = _zeros_or(c0, (batch, units), dtype)
    hs, cs, gs = [], [], []
    for t in range(steps):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        zi, zf, zc, zo = np.split(z, 4, axis=-1)
        i, f, g, o = sigmoid(zi), sigmoid(zf), np.tanh(zc), sigmoid(zo)
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
        gs.append(np.concatenate([i, f, g, o], axis=-1))
    h_seq = np.stack(hs, axis=1)
    cache = {"gates": np.stack(gs, axis=1), "c": np.stack(cs, axis=1), "h": h_seq}
    return rnn_outputs(h_seq, (h, c), cache, return_sequences, return_state, return_cache)


def _bptt_start(dh_seq, x, kernel, recurrent_kernel, bias, h0, dh_T):
    """What each BPTT below starts from: (dtype, steps, dh_seq as (B, T, U), h0 and dh_T with zeros where
    absent, zero gradients of x, kernel, recurrent_kernel and bias)."""
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    dtype = np.result_type(x, kernel)
    zeros = tuple(np.zeros(a.shape, dtype) for a in (x, kernel, recurrent_kernel, bias))
    dh_seq = _sequence_grad(dh_seq, (batch, steps, units), dtype)
    state = (batch, units)
    return dtype, steps, dh_seq, _zeros_or(h0, state, dtype), _zeros_or(dh_T, state, dtype), zeros


def lstm_backward(dh_seq, x, kernel, recurrent_kernel, bias, cache, h0=None, c0=None, dh_T=None, dc_T=None):
    """(dx, dkernel, drecurrent_kernel, dbias, dh0, dc0) of lstm, by BPTT over the cache."""
    dtype, steps, dh_seq, h0, dh_next, (dx, dkernel, drecurrent, dbias) = _bptt_start(
        dh_seq, x, kernel, recurrent_kernel, bias, h0, dh_T
    )
    c0 = _zeros_or(c0, h0.shape, dtype)
    dc_next = _zeros_or(dc_T, h0.shape, dtype)
    for t in reversed(range(steps)):
        i, f, g, o = np.split(cache["gates"][:, t], 4, axis=-1)
        c_prev = cache["c"][:, t - 1] if t > 0 else c0
        h_prev = cache["h"][:, t - 1] if t > 0 else h0
        tc = np.tanh(cache["c"][:, t])
        dh = dh_seq[:, t] + dh_next
        dc = dc_next + dh * o * (1 - tc * tc)
        dz = np.concatenate(
            [dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g), dh * tc * o * (1 - o)], axis=-1
        )
        dx[:, t] = dz @ kernel.T
        dkernel += x[:, t].T @ dz
        drecurrent += h_prev.T @ dz
        dbias += dz.sum(axis=0)
        dh_next = dz @ recurrent_kernel.T
        dc_next = dc * f
    return dx, dkernel, drecurrent, dbias, dh_next, dc_next


def gru(x, kernel, recurrent_kernel, bias, h0=None, return_sequences=True, return_state=False, return_cache=False):
    """Keras GRU with reset_after=True, gate order (z, r, h).

    x (B, T, F), kernel (F, 3U), recurrent_kernel (U, 3U), bias (2, 3U): the
    input bias, then the recurrent bias. Per step:
    xz, xr, xh = x_t @ kernel + bias[0];  hz, hr, hn = h_{t-1} @ recurrent_kernel + bias[1]
    z = sigmoid(xz + hz);  r = sigmoid(xr + hr);  hh = tanh(xh + r * hn)
    h_t = z * h_{t-1} + (1 - z) * hh
    """
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    h = _zeros_or(h0, (batch, units), np.result_type(x, kernel))
    hs, gs = [], []
    for t in range(steps):
        xz, xr, xh = np.split(x[:, t] @ kernel + bias[0], 3, axis=-1)
        hz, hr, hn = np.split(h @ recurrent_kernel + bias[1], 3, axis=-1)
        z, r = sigmoid(xz + hz), sigmoid(xr + hr)
        hh = np.tanh(xh + r * hn)
        h = z * h + (1 - z) * hh
        hs.append(h)
        gs.append(np.concatenate([z, r, hh, hn], axis=-1))
    h_seq = np.stack(hs, axis=1)
    cache = {"gates": np.stack(gs, axis=1), "h": h_seq}
    return rnn_outputs(h_seq, (h,), cache, return_sequences, return_state, return_cache)


def gru_backward(dh_seq, x, kernel, recurrent_kernel, bias, cache, h0=None, dh_T=None):
    """(dx, dkernel, drecurrent_kernel, dbias, dh0) of gru, by BPTT over the cache; dbias is (2, 3U)."""
    dtype, steps, dh_seq, h0, dh_next, (dx, dkernel, drecurrent, dbias) = _bptt_start(
        dh_seq, x, kernel, recurrent_kernel, bias, h0, dh_T
    )
    for t in reversed(range(steps)):
        z, r, hh, hn = np.split(cache["gates"][:, t], 4, axis=-1)
        h_prev = cache["h"][:, t - 1] if t > 0 else h0
        dh = dh_seq[:, t] + dh_next
        dz = dh * (h_prev - hh) * z * (1 - z)
        dxh = dh * (1 - z) * (1 - hh * hh)
        dr = dxh * hn * r * (1 - r)
        d_input = np.concatenate([dz, dr, dxh], axis=-1)
        d_recurrent = np.concatenate([dz, dr, dxh * r], axis=-1)
        dx[:, t] = d_input @ kernel.T
        dkernel += x[:, t].T @ d_input
        drecurrent += h_prev.T @ d_recurrent
        dbias[0] += d_input.sum(axis=0)
        dbias[1] += d_recurrent.sum(axis=0)
        dh_next = dh * z + d_recurrent @ recurrent_kernel.T
    return dx, dkernel, drecurrent, dbias, dh_next


def simple_rnn(
    x, kernel, recurrent_kernel, bias, h0=None, return_sequences=True, return_state=False, return_cache=False
):
    """Keras SimpleRNN (tanh): x (B, T, F), kernel (F, U), recurrent_kernel (U, U), bias (U,)."""
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    h = _zeros_or(h0, (batch, units), np.result_type(x, kernel))
    hs = []
    for t in range(steps):
        h = np.tanh(x[:, t] @ kernel + h @ recurrent_kernel + bias)
        hs.append(h)
    h_seq = np.stack(hs, axis=1)
    return rnn_outputs(h_seq, (h,), {"h": h_seq}, return_sequences, return_state, return_cache)


def simple_rnn_backward(dh_seq, x, kernel, recurrent_kernel, bias, cache, h0=None, dh_T=None):
    """(dx, dkernel, drecurrent_kernel, dbias, dh0) of simple_rnn, by BPTT over the cache."""
    dtype, steps, dh_seq, h0, dh_next, (dx, dkernel, drecurrent, dbias) = _bptt_start(
        dh_seq, x, kernel, recurrent_kernel, bias, h0, dh_T
    )
    for t in reversed(range(steps)):
        h = cache["h"][:, t]
        h_prev = cache["h"][:, t - 1] if t > 0 else h0
        dz = (dh_seq[:, t] + dh_next) * (1 - h * h)
        dx[:, t] = dz @ kernel.T
        dkernel += x[:, t].T @ dz
        drecurrent += h_prev.T @ dz
        dbias += dz.sum(axis=0)
        dh_next = dz @ recurrent_kernel.T
    return dx, dkernel, drecurrent, dbias, dh_next

"""Recurrent layers over whole sequences: Keras LSTM, GRU and SimpleRNN, and their BPTT.

Layout and gate order are Keras': x (batch, timesteps, features),
kernel (features, 4*units), recurrent_kernel (units, 4*units), bias (4*units,)
with the gate blocks in the order (i, f, c, o); SimpleRNN has one block; the
GRU (reset_after=True) three, (z, r, h), and bias (2, 3*units): input bias,
then recurrent bias.

Outputs (``ranvier.reference.rnn.rnn_outputs``): the output alone, or a tuple
``(output, *final_states, cache)`` where the states come with
``return_state=True`` and the cache with ``return_cache=True``. The cache is
what the backward needs, a dict of arrays:

- lstm: ``"gates"`` (B, T, 4U), the activations ``[i f g o]`` of every step;
  ``"c"`` (B, T, U), the cell states; ``"h"`` (B, T, U), the hidden states;
- gru: ``"gates"`` (B, T, 4U), ``[z r hh hn]`` of every step (hn = the
  recurrent candidate term h_{t-1} @ recurrent_kernel_h + bias[1]_h); ``"h"``;
- simple_rnn: ``"h"`` (B, T, U).

The arrays are those the forward computed anyway (the h sequence is needed
for the recurrence even when only the last output is returned), so keeping
the cache costs no extra work.
"""

from __future__ import annotations

from ranvier import backend
from ranvier.reference.rnn import rnn_outputs

__all__ = ["gru", "gru_backward", "lstm", "lstm_backward", "simple_rnn", "simple_rnn_backward"]


def lstm(
    x, kernel, recurrent_kernel, bias, h0=None, c0=None, return_sequences=True, return_state=False, return_cache=False
):
    """Keras LSTM over a whole sequence.

    z_t = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias, split into (i, f, c, o);
    i, f, o = sigmoid(.), g = tanh(z_c); c_t = f c_{t-1} + i g; h_t = o tanh(c_t).
    x (B, T, F), kernel (F, 4U), recurrent_kernel (U, 4U), bias (4U,), h0 and c0
    (B, U) or None for zeros -> output (B, T, U) with return_sequences, else (B, U);
    with return_state also h_T, c_T (B, U); with return_cache also the cache dict
    (module docstring) that lstm_backward takes.
    """
    h, c, gates = backend.kernels(x).lstm(x, kernel, recurrent_kernel, bias, h0, c0)
    cache = {"gates": gates, "c": c, "h": h}
    return rnn_outputs(h, (h[:, -1], c[:, -1]), cache, return_sequences, return_state, return_cache)


def lstm_backward(
    dh_seq, x, kernel, recurrent_kernel, bias, cache, h0=None, c0=None, dh_T=None, dc_T=None, need_dx=True
):
    """Backpropagation through time of ``lstm``.

    dh_seq: gradient of the output, (B, T, U), or (B, U) when the forward ran
    with return_sequences=False, or None; dh_T, dc_T (B, U) or None: gradients
    of the final states. ``cache`` comes from lstm(..., return_cache=True) with
    the same x, weights, h0 and c0 (bias is only checked: the cache holds its effect).
    Returns (dx, dkernel, drecurrent_kernel, dbias, dh0, dc0); ``need_dx=False``
    skips the input gradient's products (x is data): dx is None.
    """
    return backend.kernels(x).lstm_backward(
        dh_seq, x, kernel, recurrent_kernel, bias, cache, h0, c0, dh_T, dc_T, need_dx
    )


def gru(x, kernel, recurrent_kernel, bias, h0=None, return_sequences=True, return_state=False, return_cache=False):
    """Keras GRU (reset_after=True) over a whole sequence.

    [xz xr xh] = x_t @ kernel + bias[0]; [hz hr hn] = h_{t-1} @ recurrent_kernel + bias[1];
    z = sigmoid(xz + hz), r = sigmoid(xr + hr), hh = tanh(xh + r hn); h_t = z h_{t-1} + (1 - z) hh.
    x (B, T, F), kernel (F, 3U), recurrent_kernel (U, 3U), bias (2, 3U), h0 (B, U)
    or None for zeros -> output (B, T, U) with return_sequences, else (B, U);
    with return_state also h_T (B, U); with return_cache also the cache dict.
    """
    h, gates = backend.kernels(x).gru(x, kernel, recurrent_kernel, bias, h0)
    return rnn_outputs(h, (h[:, -1],), {"gates": gates, "h": h}, return_sequences, return_state, return_cache)


def gru_backward(dh_seq, x, kernel, recurrent_kernel, bias, cache, h0=None, dh_T=None, need_dx=True):
    """Backpropagation through time of ``gru``; arguments (need_dx too) as in lstm_backward.

    Returns (dx, dkernel, drecurrent_kernel, dbias, dh0); dbias is (2, 3U).
    """
    return backend.kernels(x).gru_backward(dh_seq, x, kernel, recurrent_kernel, bias, cache, h0, dh_T, need_dx)


def simple_rnn(
    x, kernel, recurrent_kernel, bias, h0=None, return_sequences=True, return_state=False, return_cache=False
):
    """Keras SimpleRNN with tanh: h_t = tanh(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias).

    x (B, T, F), kernel (F, U), recurrent_kernel (U, U), bias (U,), h0 (B, U) or
    None for zeros -> output (B, T, U) with return_sequences, else (B, U); with
    return_state also h_T (B, U); with return_cache also the cache dict.
    """
    h = backend.kernels(x).simple_rnn(x, kernel, recurrent_kernel, bias, h0)
    return rnn_outputs(h, (h[:, -1],), {"h": h}, return_sequences, return_state, return_cache)


def simple_rnn_backward(dh_seq, x, kernel, recurrent_kernel, bias, cache, h0=None, dh_T=None, need_dx=True):
    """Backpropagation through time of ``simple_rnn``; arguments (need_dx too) as in lstm_backward.

    Returns (dx, dkernel, drecurrent_kernel, dbias, dh0).
    """
    return backend.kernels(x).simple_rnn_backward(dh_seq, x, kernel, recurrent_kernel, bias, cache, h0, dh_T, need_dx)

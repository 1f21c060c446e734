"""Recurrent layers over whole sequences: Keras LSTM and SimpleRNN, and their BPTT.

Layout and gate order are Keras': x (batch, timesteps, features),
kernel (features, 4*units), recurrent_kernel (units, 4*units), bias (4*units,)
with the gate blocks in the order (i, f, c, o); SimpleRNN has one block.

Outputs (``ranvier.reference.rnn.rnn_outputs``): the output alone, or a tuple
``(output, *final_states, cache)`` where the states come with
``return_state=True`` and the cache with ``return_cache=True``. The cache is
what the backward needs, a dict of arrays:

- lstm: ``"gates"`` (B, T, 4U), the activations ``[i f g o]`` of every step;
  ``"c"`` (B, T, U), the cell states; ``"h"`` (B, T, U), the hidden states;
- simple_rnn: ``"h"`` (B, T, U).

The arrays are those the forward computed anyway (the h sequence is needed
for the recurrence even when only the last output is returned), so keeping
the cache costs no extra work.
"""
from __future__ import annotations

from ranvier import backend
from ranvier.ops import _checks
from ranvier.reference.rnn import rnn_outputs

__all__ = ["lstm", "lstm_backward", "simple_rnn", "simple_rnn_backward"]


def _shape(a) -> tuple:
    return tuple(int(d) for d in a.shape)


def _weights(op: str, x, kernel, recurrent_kernel, bias, gates: int):
    """Checks x and the weights; ``gates`` is the number of gate blocks (4 or 1)."""
    cols = "4*units" if gates == 4 else "units"
    x = _checks.float32(op, "x", x, layout="(batch, timesteps, features)", ndim=3)
    kernel = _checks.float32(op, "kernel", kernel, layout=f"(features, {cols})", ndim=2)
    recurrent_kernel = _checks.float32(op, "recurrent_kernel", recurrent_kernel,
                                       layout=f"(units, {cols})", ndim=2)
    bias = _checks.contiguous(_checks.float32(op, "bias", bias, layout=f"({cols},)", ndim=1))
    units = recurrent_kernel.shape[0]
    if recurrent_kernel.shape[1] != gates * units:
        raise ValueError(f"[{op}] recurrent_kernel must be (units, {cols}), got {_shape(recurrent_kernel)}")
    for name, a in (("kernel", kernel), ("bias", bias)):
        if a.shape[-1] != gates * units:
            raise ValueError(
                f"[{op}] {name} {_shape(a)} and recurrent_kernel {_shape(recurrent_kernel)} disagree on "
                f"units: {name} has {a.shape[-1]} columns, recurrent_kernel has units={units} so "
                f"{cols}={gates * units}"
            )
    if x.shape[2] != kernel.shape[0]:
        raise ValueError(
            f"[{op}] x has {x.shape[2]} features on its last axis but kernel is {_shape(kernel)} "
            f"(expects features={kernel.shape[0]})"
        )
    if x.shape[1] == 0:
        raise ValueError(f"[{op}] x must have at least one time step, got {_checks.describe(x)}")
    return _checks.contiguous(x), kernel, recurrent_kernel, bias


def _state(op: str, name: str, a, batch: int, units: int):
    """An optional (batch, units) state or state gradient."""
    if a is None:
        return None
    a = _checks.float32(op, name, a, layout="(batch, units)", ndim=2)
    if _shape(a) != (batch, units):
        raise ValueError(f"[{op}] {name} must be (batch, units) = {(batch, units)} float32, got {_checks.describe(a)}")
    return _checks.contiguous(a)


def _output_grad(op: str, dh_seq, dh_T, batch: int, steps: int, units: int):
    """(dh over the sequence or None, dh_T or None). A (B, U) dh_seq is the
    gradient of the last output only (return_sequences=False): it joins dh_T."""
    if dh_seq is None:
        return None, dh_T
    dh_seq = _checks.float32(op, "dh_seq", dh_seq, layout="(batch, timesteps, units) or (batch, units)",
                             ndim=(2, 3))
    if dh_seq.ndim == 2:
        last = _state(op, "dh_seq", dh_seq, batch, units)
        return None, last if dh_T is None else last + dh_T
    if _shape(dh_seq) != (batch, steps, units):
        raise ValueError(f"[{op}] dh_seq must be (batch, timesteps, units) = {(batch, steps, units)} "
                         f"float32, got {_checks.describe(dh_seq)}")
    return _checks.contiguous(dh_seq), dh_T


def _cached(op: str, forward: str, cache, key: str, shape: tuple):
    if not isinstance(cache, dict) or key not in cache:
        raise ValueError(f"[{op}] cache must be the dict returned by {forward}(..., return_cache=True) "
                         f"(with {key!r}), got {type(cache).__name__}")
    a = _checks.float32(op, f"cache[{key!r}]", cache[key], ndim=len(shape))
    if _shape(a) != shape:
        raise ValueError(f"[{op}] cache[{key!r}] must be {shape} float32, got {_checks.describe(a)}")
    return _checks.contiguous(a)


def _empty(x, *shape):
    return backend.empty(x, shape)


def lstm(x, kernel, recurrent_kernel, bias, h0=None, c0=None, return_sequences=True,
         return_state=False, return_cache=False):
    """Keras LSTM over a whole sequence.

    z_t = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias, split into (i, f, c, o);
    i, f, o = sigmoid(.), g = tanh(z_c); c_t = f c_{t-1} + i g; h_t = o tanh(c_t).
    x (B, T, F), kernel (F, 4U), recurrent_kernel (U, 4U), bias (4U,), h0 and c0
    (B, U) or None for zeros -> output (B, T, U) with return_sequences, else (B, U);
    with return_state also h_T, c_T (B, U); with return_cache also the cache dict
    (module docstring) that lstm_backward takes.
    """
    op = "lstm"
    x, kernel, recurrent_kernel, bias = _weights(op, x, kernel, recurrent_kernel, bias, 4)
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    h0 = _state(op, "h0", h0, batch, units)
    c0 = _state(op, "c0", c0, batch, units)
    _checks.same_device(op, x=x, kernel=kernel, recurrent_kernel=recurrent_kernel, bias=bias, h0=h0, c0=c0)
    h, c = _empty(x, batch, steps, units), _empty(x, batch, steps, units)
    gates = _empty(x, batch, steps, 4 * units)
    backend.kernels(x).lstm(h, c, gates, x, kernel, recurrent_kernel, bias, h0, c0)
    cache = {"gates": gates, "c": c, "h": h}
    return rnn_outputs(h, (h[:, -1], c[:, -1]), cache, return_sequences, return_state, return_cache)


def lstm_backward(dh_seq, x, kernel, recurrent_kernel, bias, cache, h0=None, c0=None, dh_T=None,
                  dc_T=None):
    """Backpropagation through time of ``lstm``.

    dh_seq: gradient of the output, (B, T, U), or (B, U) when the forward ran
    with return_sequences=False, or None; dh_T, dc_T (B, U) or None: gradients
    of the final states. ``cache`` comes from lstm(..., return_cache=True) with
    the same x, weights, h0 and c0 (bias is only checked: the cache holds its effect).
    Returns (dx, dkernel, drecurrent_kernel, dbias, dh0, dc0).
    """
    op = "lstm_backward"
    x, kernel, recurrent_kernel, bias = _weights(op, x, kernel, recurrent_kernel, bias, 4)
    batch, steps, features = x.shape
    units = recurrent_kernel.shape[0]
    h0, c0 = _state(op, "h0", h0, batch, units), _state(op, "c0", c0, batch, units)
    dh_T, dc_T = _state(op, "dh_T", dh_T, batch, units), _state(op, "dc_T", dc_T, batch, units)
    dh_seq, dh_T = _output_grad(op, dh_seq, dh_T, batch, steps, units)
    h = _cached(op, "lstm", cache, "h", (batch, steps, units))
    c = _cached(op, "lstm", cache, "c", (batch, steps, units))
    gates = _cached(op, "lstm", cache, "gates", (batch, steps, 4 * units))
    _checks.same_device(op, x=x, kernel=kernel, recurrent_kernel=recurrent_kernel, h0=h0, c0=c0,
                        dh_seq=dh_seq, dh_T=dh_T, dc_T=dc_T, h=h, c=c, gates=gates)
    grads = (_empty(x, batch, steps, features), _empty(x, features, 4 * units),
             _empty(x, units, 4 * units), _empty(x, 4 * units),
             _empty(x, batch, units), _empty(x, batch, units))
    backend.kernels(x).lstm_backward(*grads, dh_seq, dh_T, dc_T, x, kernel, recurrent_kernel,
                                     h, c, gates, h0, c0)
    return grads


def simple_rnn(x, kernel, recurrent_kernel, bias, h0=None, return_sequences=True,
               return_state=False, return_cache=False):
    """Keras SimpleRNN with tanh: h_t = tanh(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias).

    x (B, T, F), kernel (F, U), recurrent_kernel (U, U), bias (U,), h0 (B, U) or
    None for zeros -> output (B, T, U) with return_sequences, else (B, U); with
    return_state also h_T (B, U); with return_cache also the cache dict.
    """
    op = "simple_rnn"
    x, kernel, recurrent_kernel, bias = _weights(op, x, kernel, recurrent_kernel, bias, 1)
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    h0 = _state(op, "h0", h0, batch, units)
    _checks.same_device(op, x=x, kernel=kernel, recurrent_kernel=recurrent_kernel, bias=bias, h0=h0)
    h = _empty(x, batch, steps, units)
    backend.kernels(x).simple_rnn(h, x, kernel, recurrent_kernel, bias, h0)
    return rnn_outputs(h, (h[:, -1],), {"h": h}, return_sequences, return_state, return_cache)


def simple_rnn_backward(dh_seq, x, kernel, recurrent_kernel, bias, cache, h0=None, dh_T=None):
    """Backpropagation through time of ``simple_rnn``; arguments as in lstm_backward.

    Returns (dx, dkernel, drecurrent_kernel, dbias, dh0).
    """
    op = "simple_rnn_backward"
    x, kernel, recurrent_kernel, bias = _weights(op, x, kernel, recurrent_kernel, bias, 1)
    batch, steps, features = x.shape
    units = recurrent_kernel.shape[0]
    h0, dh_T = _state(op, "h0", h0, batch, units), _state(op, "dh_T", dh_T, batch, units)
    dh_seq, dh_T = _output_grad(op, dh_seq, dh_T, batch, steps, units)
    h = _cached(op, "simple_rnn", cache, "h", (batch, steps, units))
    _checks.same_device(op, x=x, kernel=kernel, recurrent_kernel=recurrent_kernel, h0=h0,
                        dh_seq=dh_seq, dh_T=dh_T, h=h)
    grads = (_empty(x, batch, steps, features), _empty(x, features, units), _empty(x, units, units),
             _empty(x, units), _empty(x, batch, units))
    backend.kernels(x).simple_rnn_backward(*grads, dh_seq, dh_T, x, kernel, recurrent_kernel, h, h0)
    return grads

"""LSTM, GRU and SimpleRNN over whole sequences, with backpropagation through
time; and the time-axis moves the layers' step-by-step path needs."""

from __future__ import annotations

from ranvier import ops
from ranvier.device import array_module
from ranvier.functional.arithmetic import as_tensor
from ranvier.tensor import Tensor, make_result, make_results


def _parents(x, kernel, recurrent_kernel, bias, *states):
    tensors = [as_tensor(t) for t in (x, kernel, recurrent_kernel, bias)]
    present = [as_tensor(s) for s in states if s is not None]
    return tuple(tensors), tuple(present)


def lstm(x, kernel, recurrent_kernel, bias, h0=None, c0=None, return_sequences: bool = True) -> tuple:
    """Keras LSTM (gates i, f, c, o). Returns (output, h_T, c_T); output is (B, T, U) or (B, U)."""
    (x, k, rk, b), states = _parents(x, kernel, recurrent_kernel, bias, h0, c0)
    h0_t = as_tensor(h0) if h0 is not None else None
    c0_t = as_tensor(c0) if c0 is not None else None
    h0d = None if h0_t is None else h0_t.data
    c0d = None if c0_t is None else c0_t.data
    out, h_T, c_T, cache = ops.lstm(
        x.data,
        k.data,
        rk.data,
        b.data,
        h0=h0d,
        c0=c0d,
        return_sequences=return_sequences,
        return_state=True,
        return_cache=True,
    )

    def backward(grads):
        d_out, dh_T, dc_T = grads
        dx, dk, drk, db, dh0, dc0 = ops.lstm_backward(
            d_out, x.data, k.data, rk.data, b.data, cache, h0=h0d, c0=c0d, dh_T=dh_T, dc_T=dc_T, need_dx=x.requires_grad
        )
        extra = ([dh0] if h0 is not None else []) + ([dc0] if c0 is not None else [])
        return (dx, dk, drk, db, *extra)

    return make_results((out, h_T, c_T), (x, k, rk, b) + states, backward)


def _one_state_rnn(forward, backward_op, doc: str):
    """A recurrent layer whose only state is h (SimpleRNN, GRU): returns (output, h_T); output is (B, T, U)
    or (B, U)."""

    def rnn(x, kernel, recurrent_kernel, bias, h0=None, return_sequences: bool = True) -> tuple:
        (x, k, rk, b), states = _parents(x, kernel, recurrent_kernel, bias, h0)
        h0d = None if h0 is None else as_tensor(h0).data
        out, h_T, cache = forward(
            x.data,
            k.data,
            rk.data,
            b.data,
            h0=h0d,
            return_sequences=return_sequences,
            return_state=True,
            return_cache=True,
        )

        def backward(grads):
            d_out, dh_T = grads
            dx, dk, drk, db, dh0 = backward_op(
                d_out, x.data, k.data, rk.data, b.data, cache, h0=h0d, dh_T=dh_T, need_dx=x.requires_grad
            )
            return (dx, dk, drk, db) + ((dh0,) if h0 is not None else ())

        return make_results((out, h_T), (x, k, rk, b) + states, backward)

    rnn.__name__, rnn.__doc__ = forward.__name__, doc
    return rnn


simple_rnn = _one_state_rnn(
    ops.simple_rnn,
    ops.simple_rnn_backward,
    "Keras SimpleRNN (tanh). Returns (output, h_T); output is (B, T, U) or (B, U).",
)
gru = _one_state_rnn(
    ops.gru,
    ops.gru_backward,
    "Keras GRU (reset_after=True, gates z, r, h). Returns (output, h_T); output is (B, T, U) or (B, U).",
)


def reverse_time(x) -> Tensor:
    """x (B, T, ...) with its time axis reversed, as a dense array (what go_backwards reads)."""
    x = as_tensor(x)
    xp = array_module(x.data)
    return make_result(xp.ascontiguousarray(x.data[:, ::-1]), (x,), lambda g: (xp.ascontiguousarray(g[:, ::-1]),))


def unstack_time(x) -> tuple:
    """The T steps x[:, t] (B, ...) of x (B, T, ...), each its own Tensor; one backward for all."""
    x = as_tensor(x)
    xp = array_module(x.data)
    steps = x.shape[1]

    def backward(grads):
        full = xp.zeros(x.shape, dtype=x.data.dtype)
        for t, g in enumerate(grads):
            if g is not None:
                full[:, t] = g
        return (full,)

    return make_results(tuple(x.data[:, t] for t in range(steps)), (x,), backward)

"""A valid call of every op in ranvier.ops, built from sizes that the caller draws.

``CASES[op](size, arr)`` returns the op's keyword arguments: ``size(low)``
draws one dimension (>= low; zero sizes are allowed where the op allows
them), ``arr(*shape)`` makes a float32 array of that shape (the property tests
make some of them strided). Arguments computed from a forward pass (an LSTM
cache, attention's out and lse, layer_norm's statistics, a dropout mask)
come from the reference in float64, rounded to float32, so that ranvier and
the reference read the same inputs. The property tests and the bad-input
table share these calls.
"""

from __future__ import annotations

import numpy as np

from ranvier import reference
from ranvier.reference.activation import SAVES_INPUT


def _f32(a):
    if isinstance(a, dict):
        return {k: _f32(v) for k, v in a.items()}
    return np.asarray(a, np.float32)


def _activation(name, derivative_of, params=None):
    params = params or {}

    def make(size, arr):
        shape = (size(0), size(0))
        if derivative_of is None:
            return {"x": arr(*shape), **params}
        x = arr(*shape)
        saved = x if name in SAVES_INPUT else _f32(getattr(reference, name)(np.float64(x), **params))
        return {"dy": arr(*shape), derivative_of: saved, **params}

    return make


# every element-wise activation op, with its parameters (values other than the defaults)
ACTIVATION_PARAMS = {
    "relu": {},
    "sigmoid": {},
    "tanh": {},
    "gelu": {},
    "leaky_relu": {"negative_slope": 0.1},
    "elu": {"alpha": 0.5},
    "selu": {},
    "silu": {},
    "softplus": {},
    "softsign": {},
    "hard_sigmoid": {},
    "exponential": {},
    "relu_general": {"negative_slope": 0.1, "max_value": 1.5, "threshold": 0.25},
}


def _matmul(size, arr):
    m, k, n = size(0), size(0), size(0)
    return {"a": arr(m, k), "b": arr(k, n)}


def _linear(size, arr):
    m, k, n = size(0), size(0), size(0)
    return {"x": arr(m, k), "w": arr(k, n), "b": arr(n), "activation": "tanh"}


def _linear_backward(size, arr):
    m, k, n = size(0), size(0), size(0)
    x, w = arr(m, k), arr(k, n)
    y = _f32(reference.linear(np.float64(x), np.float64(w), None, "tanh"))
    return {"dy": arr(m, n), "x": x, "w": w, "activation": "tanh", "y": y}


def _conv_shapes(size):
    n, h, w, c, k = size(0), size(2), size(2), size(1), size(1)
    return (n, h, w, c), (2, 2, c, k)


def _conv2d(size, arr):
    xs, ws = _conv_shapes(size)
    return {"x": arr(*xs), "w": arr(*ws), "b": arr(ws[3]), "stride": 2, "padding": "same", "activation": "relu"}


def _conv2d_backward(size, arr):
    xs, ws = _conv_shapes(size)
    x, w = arr(*xs), arr(*ws)
    y = _f32(reference.conv2d(np.float64(x), np.float64(w), None, stride=2, padding="same", activation="relu"))
    return {"dy": arr(*y.shape), "x": x, "w": w, "stride": 2, "padding": "same", "activation": "relu", "y": y}


def _pool(backward):
    def make(size, arr):
        x = arr(size(0), size(2), size(2), size(0))
        if not backward:
            return {"x": x, "pool_size": 2, "stride": 1, "padding": "same"}
        out = reference.max_pool2d(np.float64(x), 2, stride=1, padding="same")
        return {"dy": arr(*out.shape), "x": x, "pool_size": 2, "stride": 1, "padding": "same"}

    return make


def _conv1d(size, arr):
    n, length, c, k = size(0), size(3), size(1), size(1)
    return {"x": arr(n, length, c), "w": arr(3, c, k), "b": arr(k), "stride": 2, "padding": "causal", "dilation": 1}


def _conv1d_backward(size, arr):
    n, length, c, k = size(0), size(3), size(1), size(1)
    x, w = arr(n, length, c), arr(3, c, k)
    y = _f32(reference.conv1d(np.float64(x), np.float64(w), None, stride=2, padding="same", activation="tanh"))
    return {"dy": arr(*y.shape), "x": x, "w": w, "stride": 2, "padding": "same", "activation": "tanh", "y": y}


def _conv2d_transpose(backward):
    def make(size, arr):
        n, h, w, c, f = size(0), size(1), size(1), size(1), size(1)
        call = {"x": arr(n, h, w, c), "w": arr(3, 2, f, c), "stride": 2, "padding": "same", "output_padding": 1}
        if not backward:
            return {**call, "b": arr(f)}
        out = reference.conv2d_transpose(np.float64(call["x"]), np.float64(call["w"]), None, 2, "same", 1)
        return {"dy": arr(*out.shape), **call}

    return make


def _pool1d(backward):
    def make(size, arr):
        x = arr(size(0), size(2), size(0))
        if not backward:
            return {"x": x, "pool_size": 3, "stride": 2, "padding": "same"}
        out = reference.max_pool1d(np.float64(x), 3, stride=2, padding="same")
        return {"dy": arr(*out.shape), "x": x, "pool_size": 3, "stride": 2, "padding": "same"}

    return make


def _global_max_pool(backward):
    def make(size, arr):
        x = arr(size(0), size(1), size(1), size(0))
        return {"dy": arr(x.shape[0], x.shape[3]), "x": x} if backward else {"x": x}

    return make


# The spatial ops' own argument, by op.
_SPATIAL_ARGUMENT = {
    "upsample2d": {"size": (2, 3), "interpolation": "bilinear"},  # nearest: tests/test_spatial.py
    "pad2d": {"padding": ((1, 0), (0, 2))},
    "crop2d": {"cropping": ((1, 0), (0, 1))},
}


def _spatial(op, backward):
    def make(size, arr):
        x, argument = arr(size(0), size(2), size(2), size(0)), _SPATIAL_ARGUMENT[op]
        if not backward:
            return {"x": x, **argument}
        out = getattr(reference, op)(np.float64(x), *argument.values())
        return {"dy": arr(*out.shape), "x": x, **argument}

    return make


def _softmax(backward, log):
    def make(size, arr):
        x = arr(size(0), size(1))
        if not backward:
            return {"x": x, "axis": 0}
        y = (reference.log_softmax if log else reference.softmax)(np.float64(x), axis=0)
        return {"dy": arr(*x.shape), "y": _f32(y), "axis": 0}

    return make


def _cross_entropy(size, arr):
    n, c = size(0), size(1)
    labels = np.arange(n, dtype=np.int64) % c
    return {"logits": arr(n, c), "labels": labels, "reduction": "sum"}


def _regression_loss(name):
    def make(size, arr):
        shape = (size(0), size(1))
        pred = arr(*shape)
        if name.startswith("binary"):
            pred = _f32(1 / (1 + np.exp(-np.float64(pred))))  # probabilities
        target = _f32(np.abs(np.tanh(arr(*shape))))
        return {"pred": pred, "target": target, "reduction": "sum"}

    return make


def _attention_inputs(size, arr):
    b, h, lq, lk, d, dv = size(0), size(1), size(0), size(0), size(1), size(1)
    return {"q": arr(b, h, lq, d), "k": arr(b, h, lk, d), "v": arr(b, h, lk, dv), "causal": True}


def _attention_backward(size, arr):
    a = _attention_inputs(size, arr)
    out, lse = reference.attention(*(np.float64(a[n]) for n in "qkv"), causal=True, return_lse=True)
    return {"dout": arr(*out.shape), **a, "out": _f32(out), "lse": _f32(lse)}


def _rnn(name, backward):
    gates = {"lstm": 4, "gru": 3}.get(name, 1)

    def make(size, arr):
        n, t, f, u = size(0), size(1), size(1), size(1)  # at least one time step
        w = {
            "x": arr(n, t, f),
            "kernel": arr(f, gates * u),
            "recurrent_kernel": arr(u, gates * u),
            "bias": arr(2, gates * u) if name == "gru" else arr(gates * u),
        }
        if not backward:
            return w
        forward = getattr(reference, name)
        seq, cache = forward(*(np.float64(w[k]) for k in w), return_cache=True)
        return {"dh_seq": arr(*seq.shape), **w, "cache": _f32(cache)}

    return make


def _layer_norm(size, arr):
    d = size(1)
    return {"x": arr(size(0), d), "gamma": arr(d), "beta": arr(d)}


def _layer_norm_backward(size, arr):
    a = _layer_norm(size, arr)
    _, mean, rstd = reference.layer_norm(*(np.float64(a[k]) for k in a), return_stats=True)
    return {"dy": arr(*a["x"].shape), "x": a["x"], "gamma": a["gamma"], "mean": _f32(mean), "rstd": _f32(rstd)}


def _embedding(size, arr):
    v, n = size(1), size(0)
    return {"ids": np.arange(n, dtype=np.int64) % v, "table": arr(v, size(0))}


def _embedding_backward(size, arr):
    v, n, d = size(1), size(0), size(0)
    return {"dy": arr(n, d), "ids": np.arange(n, dtype=np.int64) % v, "num_embeddings": v}


def _dropout(size, arr):
    return {"x": arr(size(0), size(0)), "rate": 0.25, "seed": 5}


def _dropout_backward(size, arr):
    dy = arr(size(0), size(0))
    return {"dy": dy, "mask": reference.dropout(np.float64(dy), 0.25, 5)[1], "rate": 0.25}


def _sgd_update(size, arr):
    n = size(0)
    return {"param": arr(n), "grad": arr(n), "velocity": arr(n), "lr": 0.1, "momentum": 0.9, "nesterov": True}


def _adam_update(size, arr):
    n = size(0)
    return {"param": arr(n), "grad": arr(n), "m": arr(n), "v": np.abs(arr(n)), "step": 3, "weight_decay": 0.01}


def _rmsprop_update(size, arr):
    n = size(0)
    return {"param": arr(n), "grad": arr(n), "v": np.abs(arr(n)), "velocity": arr(n), "lr": 0.01, "momentum": 0.9}


def _nadam_update(size, arr):
    n = size(0)
    return {"param": arr(n), "grad": arr(n), "m": arr(n), "v": np.abs(arr(n)), "step": 3, "u_product": 0.4}


def _adagrad_update(size, arr):
    n = size(0)
    return {"param": arr(n), "grad": arr(n), "accumulator": np.abs(arr(n)) + 0.1, "weight_decay": 0.01}


def _adamax_update(size, arr):
    n = size(0)
    return {"param": arr(n), "grad": arr(n), "m": arr(n), "u": np.abs(arr(n)), "step": 2}


def _lion_update(size, arr):
    n = size(0)
    return {"param": arr(n), "grad": arr(n), "m": arr(n), "lr": 0.01, "weight_decay": 0.1}


CASES = {
    **{name: _activation(name, None, params) for name, params in ACTIVATION_PARAMS.items()},
    **{
        f"{name}_backward": _activation(name, "x" if name in SAVES_INPUT else "y", params)
        for name, params in ACTIVATION_PARAMS.items()
    },
    "matmul": _matmul,
    "linear": _linear,
    "linear_backward": _linear_backward,
    "conv2d": _conv2d,
    "conv2d_backward": _conv2d_backward,
    "max_pool2d": _pool(False),
    "avg_pool2d": _pool(False),
    "max_pool2d_backward": _pool(True),
    "avg_pool2d_backward": _pool(True),
    "conv1d": _conv1d,
    "conv1d_backward": _conv1d_backward,
    "conv2d_transpose": _conv2d_transpose(False),
    "conv2d_transpose_backward": _conv2d_transpose(True),
    "max_pool1d": _pool1d(False),
    "avg_pool1d": _pool1d(False),
    "max_pool1d_backward": _pool1d(True),
    "avg_pool1d_backward": _pool1d(True),
    "global_max_pool": _global_max_pool(False),
    "global_max_pool_backward": _global_max_pool(True),
    **{name: _spatial(name, False) for name in _SPATIAL_ARGUMENT},
    **{f"{name}_backward": _spatial(name, True) for name in _SPATIAL_ARGUMENT},
    "softmax": _softmax(False, False),
    "log_softmax": _softmax(False, True),
    "softmax_backward": _softmax(True, False),
    "log_softmax_backward": _softmax(True, True),
    "softmax_cross_entropy": _cross_entropy,
    "softmax_cross_entropy_backward": _cross_entropy,
    "mse": _regression_loss("mse"),
    "mse_backward": _regression_loss("mse"),
    "binary_cross_entropy": _regression_loss("binary"),
    "binary_cross_entropy_backward": _regression_loss("binary"),
    "attention": _attention_inputs,
    "attention_backward": _attention_backward,
    "lstm": _rnn("lstm", False),
    "lstm_backward": _rnn("lstm", True),
    "gru": _rnn("gru", False),
    "gru_backward": _rnn("gru", True),
    "simple_rnn": _rnn("simple_rnn", False),
    "simple_rnn_backward": _rnn("simple_rnn", True),
    "layer_norm": _layer_norm,
    "layer_norm_backward": _layer_norm_backward,
    "embedding": _embedding,
    "embedding_backward": _embedding_backward,
    "dropout": _dropout,
    "dropout_backward": _dropout_backward,
    "sgd_update": _sgd_update,
    "adam_update": _adam_update,
    "rmsprop_update": _rmsprop_update,
    "nadam_update": _nadam_update,
    "adagrad_update": _adagrad_update,
    "adamax_update": _adamax_update,
    "lion_update": _lion_update,
}

# The ops that update their first arguments in place (the tests pass copies).
IN_PLACE = {
    "sgd_update",
    "adam_update",
    "rmsprop_update",
    "nadam_update",
    "adagrad_update",
    "adamax_update",
    "lion_update",
}

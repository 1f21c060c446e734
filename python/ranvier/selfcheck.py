"""``python -m ranvier check``: every op against its NumPy reference, on this machine.

Runs each op's forward and backward on fresh random inputs, on every
instruction set the CPU supports and on the GPU when there is one, and
compares with ``ranvier.reference`` computed in float64. The error of a
result is its largest absolute deviation relative to the largest magnitude of
the reference result.
"""

from __future__ import annotations

import numpy as np

from ranvier import _runtime, cuda, ops, reference
from ranvier.device import to_device, to_host
from ranvier.reference.activation import SAVES_INPUT

TOLERANCE = 1e-4


def _f(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _case_dense(rng):
    x, w, b, dy = _f(rng, 37, 61), _f(rng, 61, 29, scale=0.2), _f(rng, 29), _f(rng, 37, 29)
    y = reference.linear(x, w, b, "tanh")
    return [
        ("matmul", lambda o: o.matmul(x, w), lambda: reference.matmul(x, w)),
        ("linear", lambda o: o.linear(x, w, b, "tanh"), lambda: y),
        (
            "linear_backward",
            lambda o: o.linear_backward(dy, x, w, "tanh", y=y.astype(np.float32)),
            lambda: reference.linear_backward(dy, x, w, "tanh", y=y),
        ),
    ]


def _case_activations(rng):
    x, dy = _f(rng, 1001, scale=3), _f(rng, 1001)
    cases = []
    params = {"leaky_relu": (0.1,), "elu": (0.5,), "relu_general": (0.1, 1.5, 0.25)}
    names = ("relu", "sigmoid", "tanh", "gelu", "leaky_relu", "elu", "selu", "silu", "softplus", "softsign")
    for name in (*names, "hard_sigmoid", "exponential", "relu_general"):
        fwd, bwd = getattr(reference, name), getattr(reference, f"{name}_backward")
        p = params.get(name, ())
        saved = x if name in SAVES_INPUT else fwd(x, *p).astype(np.float32)
        cases.append((name, lambda o, n=name, p=p: getattr(o, n)(x, *p), lambda f=fwd, p=p: f(x, *p)))
        cases.append(
            (
                f"{name}_backward",
                lambda o, n=name, s=saved, p=p: getattr(o, f"{n}_backward")(dy, s, *p),
                lambda b=bwd, s=saved, p=p: b(dy, s, *p),
            )
        )
    return cases


def _case_conv_pool(rng):
    x, w, b = _f(rng, 2, 11, 9, 3), _f(rng, 3, 3, 3, 5), _f(rng, 5)
    kw = dict(stride=2, padding="same")
    dy = _f(rng, *reference.conv2d(x, w, b, **kw).shape)
    p = _f(rng, 2, 8, 7, 4)
    dp = _f(rng, *reference.max_pool2d(p, 2).shape)
    return [
        ("conv2d", lambda o: o.conv2d(x, w, b, **kw), lambda: reference.conv2d(x, w, b, **kw)),
        (
            "conv2d_backward",
            lambda o: o.conv2d_backward(dy, x, w, **kw),
            lambda: reference.conv2d_backward(dy, x, w, **kw),
        ),
        ("max_pool2d", lambda o: o.max_pool2d(p, 2), lambda: reference.max_pool2d(p, 2)),
        (
            "max_pool2d_backward",
            lambda o: o.max_pool2d_backward(dp, p, 2),
            lambda: reference.max_pool2d_backward(dp, p, 2),
        ),
        ("avg_pool2d", lambda o: o.avg_pool2d(p, 2), lambda: reference.avg_pool2d(p, 2)),
        (
            "avg_pool2d_backward",
            lambda o: o.avg_pool2d_backward(dp, p, 2),
            lambda: reference.avg_pool2d_backward(dp, p, 2),
        ),
    ]


def _case_conv1d_transpose_pool1d(rng):
    s, k, bs = _f(rng, 3, 29, 6), _f(rng, 3, 6, 7), _f(rng, 7)
    c1 = dict(stride=2, padding="causal", dilation=2)
    dys = _f(rng, *reference.conv1d(s, k, bs, **c1).shape)
    x, w, b = _f(rng, 2, 5, 4, 6), _f(rng, 3, 3, 5, 6), _f(rng, 5)
    ct = dict(stride=2, padding="same", output_padding=1)
    dy = _f(rng, *reference.conv2d_transpose(x, w, b, **ct).shape)
    ds = _f(rng, *reference.max_pool1d(s, 3, 2, "same").shape)
    g = _f(rng, 3, 6)
    return [
        ("conv1d", lambda o: o.conv1d(s, k, bs, **c1), lambda: reference.conv1d(s, k, bs, **c1)),
        (
            "conv1d_backward",
            lambda o: o.conv1d_backward(dys, s, k, **c1),
            lambda: reference.conv1d_backward(dys, s, k, **c1),
        ),
        (
            "conv2d_transpose",
            lambda o: o.conv2d_transpose(x, w, b, **ct),
            lambda: reference.conv2d_transpose(x, w, b, **ct),
        ),
        (
            "conv2d_transpose_backward",
            lambda o: o.conv2d_transpose_backward(dy, x, w, **ct),
            lambda: reference.conv2d_transpose_backward(dy, x, w, **ct),
        ),
        *[
            case
            for name in ("max_pool1d", "avg_pool1d")
            for case in (
                (
                    name,
                    lambda o, n=name: getattr(o, n)(s, 3, 2, "same"),
                    lambda n=name: getattr(reference, n)(s, 3, 2, "same"),
                ),
                (
                    f"{name}_backward",
                    lambda o, n=name: getattr(o, f"{n}_backward")(ds, s, 3, 2, "same"),
                    lambda n=name: getattr(reference, f"{n}_backward")(ds, s, 3, 2, "same"),
                ),
            )
        ],
        ("global_max_pool", lambda o: o.global_max_pool(s), lambda: reference.global_max_pool(s)),
        (
            "global_max_pool_backward",
            lambda o: o.global_max_pool_backward(g, s),
            lambda: reference.global_max_pool_backward(g, s),
        ),
    ]


def _case_softmax_losses(rng):
    z, dy = _f(rng, 33, 17, scale=3), _f(rng, 33, 17)
    y = reference.softmax(z).astype(np.float32)
    log_y = reference.log_softmax(z).astype(np.float32)
    labels = rng.integers(0, 17, 33)
    t = rng.random((33, 17)).astype(np.float32)
    return [
        ("softmax", lambda o: o.softmax(z), lambda: reference.softmax(z)),
        ("softmax_backward", lambda o: o.softmax_backward(dy, y), lambda: reference.softmax_backward(dy, y)),
        ("log_softmax", lambda o: o.log_softmax(z), lambda: reference.log_softmax(z)),
        (
            "log_softmax_backward",
            lambda o: o.log_softmax_backward(dy, log_y),
            lambda: reference.log_softmax_backward(dy, log_y),
        ),
        (
            "softmax_cross_entropy",
            lambda o: o.softmax_cross_entropy(z, labels),
            lambda: reference.softmax_cross_entropy(z, labels),
        ),
        (
            "softmax_cross_entropy_backward",
            lambda o: o.softmax_cross_entropy_backward(z, labels),
            lambda: reference.softmax_cross_entropy_backward(z, labels),
        ),
        ("mse", lambda o: o.mse(z, t), lambda: reference.mse(z, t)),
        ("mse_backward", lambda o: o.mse_backward(z, t), lambda: reference.mse_backward(z, t)),
        (
            "binary_cross_entropy",
            lambda o: o.binary_cross_entropy(z, t, from_logits=True),
            lambda: reference.binary_cross_entropy(z, t, from_logits=True),
        ),
        (
            "binary_cross_entropy_backward",
            lambda o: o.binary_cross_entropy_backward(z, t, from_logits=True),
            lambda: reference.binary_cross_entropy_backward(z, t, from_logits=True),
        ),
    ]


def _case_attention(rng):
    q, k, v = _f(rng, 2, 3, 37, 16), _f(rng, 2, 3, 45, 16), _f(rng, 2, 3, 45, 8)
    out, lse = ops.attention(q, k, v, causal=True, return_lse=True)
    dout = _f(rng, *out.shape)
    return [
        ("attention", lambda o: o.attention(q, k, v, causal=True), lambda: reference.attention(q, k, v, causal=True)),
        (
            "attention_backward",
            lambda o: o.attention_backward(dout, q, k, v, out, lse, causal=True),
            lambda: reference.attention_backward(dout, q, k, v, out, lse, causal=True),
        ),
    ]


def _case_recurrent(rng):
    x, kern, rk, b = _f(rng, 3, 7, 5), _f(rng, 5, 36, scale=0.4), _f(rng, 9, 36, scale=0.4), _f(rng, 36)
    seq, cache = reference.lstm(x, kern, rk, b, return_cache=True)
    dh = _f(rng, *seq.shape)
    s_kern, s_rk, s_b = _f(rng, 5, 9, scale=0.4), _f(rng, 9, 9, scale=0.4), _f(rng, 9)
    s_cache = reference.simple_rnn(x, s_kern, s_rk, s_b, return_cache=True)[1]
    g_kern, g_rk, g_b = _f(rng, 5, 27, scale=0.4), _f(rng, 9, 27, scale=0.4), _f(rng, 2, 27)
    g_cache = reference.gru(x, g_kern, g_rk, g_b, return_cache=True)[1]
    return [
        ("gru", lambda o: o.gru(x, g_kern, g_rk, g_b), lambda: reference.gru(x, g_kern, g_rk, g_b)),
        (
            "gru_backward",
            lambda o: o.gru_backward(dh, x, g_kern, g_rk, g_b, o.gru(x, g_kern, g_rk, g_b, return_cache=True)[1]),
            lambda: reference.gru_backward(dh, x, g_kern, g_rk, g_b, g_cache),
        ),
        ("lstm", lambda o: o.lstm(x, kern, rk, b), lambda: reference.lstm(x, kern, rk, b)),
        (
            "lstm_backward",
            lambda o: o.lstm_backward(dh, x, kern, rk, b, o.lstm(x, kern, rk, b, return_cache=True)[1]),
            lambda: reference.lstm_backward(dh, x, kern, rk, b, cache),
        ),
        (
            "simple_rnn",
            lambda o: o.simple_rnn(x, s_kern, s_rk, s_b),
            lambda: reference.simple_rnn(x, s_kern, s_rk, s_b),
        ),
        (
            "simple_rnn_backward",
            lambda o: o.simple_rnn_backward(
                dh, x, s_kern, s_rk, s_b, o.simple_rnn(x, s_kern, s_rk, s_b, return_cache=True)[1]
            ),
            lambda: reference.simple_rnn_backward(dh, x, s_kern, s_rk, s_b, s_cache),
        ),
    ]


def _case_norm_embedding_dropout(rng):
    x, gamma, beta, dy = _f(rng, 7, 33), _f(rng, 33), _f(rng, 33), _f(rng, 7, 33)
    _, mean, rstd = reference.layer_norm(x, gamma, beta, return_stats=True)
    ids, table, demb = rng.integers(0, 50, (4, 6)), _f(rng, 50, 8), _f(rng, 4, 6, 8)
    mask = reference.dropout(x, 0.3, seed=7)[1]
    return [
        ("layer_norm", lambda o: o.layer_norm(x, gamma, beta), lambda: reference.layer_norm(x, gamma, beta)),
        (
            "layer_norm_backward",
            lambda o: o.layer_norm_backward(dy, x, gamma, *o.layer_norm(x, gamma, beta, return_stats=True)[1:]),
            lambda: reference.layer_norm_backward(dy, x, gamma, mean, rstd),
        ),
        ("embedding", lambda o: o.embedding(ids, table), lambda: reference.embedding(ids, table)),
        (
            "embedding_backward",
            lambda o: o.embedding_backward(demb, ids, 50),
            lambda: reference.embedding_backward(demb, ids, 50),
        ),
        ("dropout", lambda o: o.dropout(x, 0.3, seed=7), lambda: reference.dropout(x, 0.3, seed=7)),
        (
            "dropout_backward",
            lambda o: o.dropout_backward(dy, mask, 0.3),
            lambda: reference.dropout_backward(dy, mask, 0.3),
        ),
    ]


def _case_optimizers(rng):
    """The in-place updates run on copies (each backend starts from the same state)."""
    p, g, s1, s2 = _f(rng, 301), _f(rng, 301), _f(rng, 301), np.abs(_f(rng, 301))
    sgd = dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    adam = dict(lr=0.01, weight_decay=0.01, decoupled=True)
    rms = dict(lr=0.01, momentum=0.9)
    return [
        (
            "sgd_update",
            lambda o: o.sgd_update(p.copy(), g, s1.copy(), **sgd),
            lambda: reference.sgd_update(p, g, s1, **sgd),
        ),
        (
            "adam_update",
            lambda o: o.adam_update(p.copy(), g, s1.copy(), s2.copy(), 3, **adam),
            lambda: reference.adam_update(p, g, s1, s2, 3, **adam),
        ),
        (
            "rmsprop_update",
            lambda o: o.rmsprop_update(p.copy(), g, s2.copy(), s1.copy(), s1.copy() * 0.1, **rms),
            lambda: reference.rmsprop_update(p, g, s2, s1, s1 * 0.1, **rms),
        ),
        (
            "nadam_update",
            lambda o: o.nadam_update(p.copy(), g, s1.copy(), s2.copy(), 3, 0.4, lr=0.01, weight_decay=0.01),
            lambda: reference.nadam_update(p, g, s1, s2, 3, 0.4, lr=0.01, weight_decay=0.01),
        ),
        (
            "adagrad_update",
            lambda o: o.adagrad_update(p.copy(), g, s2.copy(), lr=0.01),
            lambda: reference.adagrad_update(p, g, s2, lr=0.01),
        ),
        (
            "adamax_update",
            lambda o: o.adamax_update(p.copy(), g, s1.copy(), s2.copy(), 3, lr=0.01),
            lambda: reference.adamax_update(p, g, s1, s2, 3, lr=0.01),
        ),
        (
            "lion_update",
            lambda o: o.lion_update(p.copy(), g, s1.copy(), lr=0.01, weight_decay=0.01),
            lambda: reference.lion_update(p, g, s1, lr=0.01, weight_decay=0.01),
        ),
    ]


def _case_spatial(rng):
    x = _f(rng, 2, 9, 7, 5)
    calls = [
        ("upsample2d", ((2, 3), "nearest")),
        ("upsample2d", ((3, 2), "bilinear")),
        ("pad2d", (((1, 2), (0, 3)),)),
        ("crop2d", (((2, 1), (1, 0)),)),
    ]
    cases = []
    for name, args in calls:
        dy = _f(rng, *getattr(reference, name)(x, *args).shape)
        fwd, bwd = getattr(reference, name), getattr(reference, f"{name}_backward")
        cases.append((name, lambda o, n=name, a=args: getattr(o, n)(x, *a), lambda f=fwd, a=args: f(x, *a)))
        cases.append(
            (
                f"{name}_backward",
                lambda o, n=name, a=args, d=dy: getattr(o, f"{n}_backward")(d, x, *a),
                lambda b=bwd, a=args, d=dy: b(d, x, *a),
            )
        )
    return cases


CASES = [
    _case_dense,
    _case_activations,
    _case_conv_pool,
    _case_conv1d_transpose_pool1d,
    _case_softmax_losses,
    _case_attention,
    _case_recurrent,
    _case_norm_embedding_dropout,
    _case_optimizers,
    _case_spatial,
]


def _to_numpy(a):
    if isinstance(a, (tuple, list)):
        return [_to_numpy(v) for v in a]
    return to_host(a)


def _flatten(a):
    return [np.asarray(v, np.float64).ravel() for v in (a if isinstance(a, (tuple, list)) else [a]) if v is not None]


def relative_error(got, want) -> float:
    got, want = _flatten(_to_numpy(got)), _flatten(want)
    if len(got) != len(want) or any(g.shape != w.shape for g, w in zip(got, want)):
        return float("inf")
    g, w = np.concatenate(got or [np.zeros(0)]), np.concatenate(want or [np.zeros(0)])
    if g.size == 0:
        return 0.0
    if not np.all(np.isfinite(g)):
        return float("inf")
    return float(np.max(np.abs(g - w)) / max(np.max(np.abs(w)), 1e-30))


class _OnGpu:
    """ranvier.ops with every array argument moved to the GPU."""

    def __getattr__(self, name):
        fn = getattr(ops, name)

        def move(a):
            if isinstance(a, np.ndarray):
                return to_device(a, "cuda")
            if isinstance(a, dict):
                return {k: move(v) for k, v in a.items()}
            return a

        return lambda *args, **kw: fn(*[move(a) for a in args], **{k: move(v) for k, v in kw.items()})


def run(seed: int = 0) -> list:
    """Rows (op, backend, error, passed) for every op on every backend."""
    rows = []
    backends = [(f"cpu/{isa}", isa) for isa in _runtime.supported_isas()]
    if cuda.is_available():
        backends.append(("cuda", None))
    before = _runtime.get_isa()
    try:
        for label, isa in backends:
            target = _OnGpu() if isa is None else ops
            if isa is not None:
                _runtime.set_isa(isa)
            rng = np.random.default_rng(seed)
            for make in CASES:
                for name, ours, ref in make(rng):
                    try:
                        err = relative_error(ours(target), ref())
                    except Exception as e:  # a missing kernel or a crash in one op must not hide the others
                        rows.append((name, label, f"error: {type(e).__name__}: {e}"[:60], False))
                        continue
                    rows.append((name, label, err, err <= TOLERANCE))
    finally:
        _runtime.set_isa(before)
    return rows


def main() -> int:
    rows = run()
    width = max(len(r[0]) for r in rows)
    print(f"{'op':<{width}}  {'backend':<12} {'max rel error':>14}  result")
    for name, label, err, ok in rows:
        shown = f"{err:14.2e}" if isinstance(err, float) else f"{err:>14}"
        print(f"{name:<{width}}  {label:<12} {shown}  {'pass' if ok else 'FAIL'}")
    failed = sum(not r[3] for r in rows)
    print(f"{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0

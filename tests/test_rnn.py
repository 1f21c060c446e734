"""LSTM, GRU and SimpleRNN: reference against finite differences, kernels against the reference."""

import numpy as np
import pytest
from helpers import assert_close, check_autograd, f32, num_threads, numerical_grad

from ranvier import functional as F
from ranvier import ops, reference

# (B, T, F, U): size 1 on every axis, units off the vector width (5, 33), F = 1,
# a long-ish sequence, a batch large enough that the steps run threaded, and
# units > 256 so the recurrent GEMM accumulates over several depth blocks.
SHAPES = [(2, 1, 3, 5), (1, 4, 3, 5), (3, 4, 1, 33), (1, 1, 1, 1), (8, 50, 16, 32), (300, 3, 5, 16), (2, 3, 4, 260)]
TWO_ISAS = pytest.mark.parametrize("isa", ["generic", "avx512"], indirect=True)

# Gate blocks per unit and the state names of each op.
LAYERS = {"lstm": (4, ("h", "c")), "gru": (3, ("h",)), "simple_rnn": (1, ("h",))}


def _weights(rng, layer, features, units, dtype=np.float32):
    gates = LAYERS[layer][0]
    kernel = rng.standard_normal((features, gates * units)) / np.sqrt(features)
    recurrent = rng.standard_normal((units, gates * units)) / np.sqrt(units)
    # the GRU (reset_after=True) has an input bias and a recurrent bias
    bias = rng.standard_normal((2, gates * units) if layer == "gru" else gates * units) * 0.5
    return [a.astype(dtype) for a in (kernel, recurrent, bias)]


def _initial(rng, layer, batch, units, dtype=np.float32):
    return {f"{s}0": rng.standard_normal((batch, units)).astype(dtype) for s in LAYERS[layer][1]}


def _close(got, want, steps, what):
    """Error model: each step adds a few roundings relative to the largest value,
    and errors carried through the recurrence grow like sqrt(steps)."""
    want = np.asarray(want, np.float64)
    scale = max(1.0, float(np.abs(want).max())) if want.size else 1.0
    assert_close(got, want, atol=2e-6 * np.sqrt(steps) * scale, rtol=1e-5, what=what)


# ---- reference against finite differences (float64) ---------------------------------------------


@pytest.mark.parametrize("layer", ["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_reference_backward_is_the_gradient(layer, return_sequences, rng):
    batch, steps, features, units = 2, 3, 2, 3
    x = rng.standard_normal((batch, steps, features))
    weights = _weights(rng, layer, features, units, np.float64)
    init = _initial(rng, layer, batch, units, np.float64)
    forward, backward = getattr(reference, layer), getattr(reference, f"{layer}_backward")
    n_states = len(LAYERS[layer][1])
    w_out = rng.standard_normal((batch, steps, units) if return_sequences else (batch, units))
    w_states = [rng.standard_normal((batch, units)) for _ in range(n_states)]

    def loss(x_, kernel, recurrent, bias, *states):
        out, *final = forward(
            x_, kernel, recurrent, bias, *states, return_sequences=return_sequences, return_state=True
        )
        return np.sum(out * w_out) + sum(np.sum(s * w) for s, w in zip(final, w_states))

    args = [x, *weights, *init.values()]
    _, *_, cache = forward(*args, return_sequences=return_sequences, return_state=True, return_cache=True)
    final_grads = dict(zip([f"d{s}_T" for s in LAYERS[layer][1]], w_states))
    got = backward(w_out, x, *weights, cache, **init, **final_grads)
    names = ["dx", "dkernel", "drecurrent_kernel", "dbias"] + [f"d{s}0" for s in LAYERS[layer][1]]
    assert len(got) == len(args) == len(names)
    for i, (g, name) in enumerate(zip(got, names)):

        def along(v, i=i):
            return loss(*args[:i], v, *args[i + 1 :])

        assert_close(g, numerical_grad(along, args[i]), atol=1e-7, rtol=1e-6, what=f"{layer} {name}")


# ---- kernels against the reference ------------------------------------------------------------------


@TWO_ISAS
@pytest.mark.parametrize("layer", ["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize("batch,steps,features,units", SHAPES)
@pytest.mark.parametrize("with_states", [True, False])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_forward_and_backward_match_reference(
    backend, isa, layer, batch, steps, features, units, with_states, return_sequences, rng
):
    state_names = LAYERS[layer][1]
    x = f32(rng, batch, steps, features)
    weights = _weights(rng, layer, features, units)
    init = _initial(rng, layer, batch, units) if with_states else {}
    dout = f32(rng, *((batch, steps, units) if return_sequences else (batch, units)))
    final_grads = {f"d{s}_T": f32(rng, batch, units) for s in state_names} if with_states else {}

    def f64(d):
        return {k: v.astype(np.float64) for k, v in d.items()}

    dev = backend.asarray
    kw = dict(return_sequences=return_sequences, return_state=True, return_cache=True)
    got = getattr(ops, layer)(dev(x), *map(dev, weights), **{k: dev(v) for k, v in init.items()}, **kw)
    want = getattr(reference, layer)(x.astype(np.float64), *(w.astype(np.float64) for w in weights), **f64(init), **kw)
    for g, w, name in zip(got[:-1], want[:-1], ("output",) + tuple(f"{s}_T" for s in state_names)):
        _close(backend.numpy(g), w, steps, f"{layer} {name}")

    grads = getattr(ops, f"{layer}_backward")(
        dev(dout), dev(x), *map(dev, weights), got[-1], **{k: dev(v) for k, v in {**init, **final_grads}.items()}
    )
    want_grads = getattr(reference, f"{layer}_backward")(
        dout.astype(np.float64),
        x.astype(np.float64),
        *(w.astype(np.float64) for w in weights),
        want[-1],
        **f64(init),
        **f64(final_grads),
    )
    names = ["dx", "dkernel", "drecurrent_kernel", "dbias"] + [f"d{s}0" for s in state_names]
    assert len(grads) == len(names)
    for g, w, name in zip(grads, want_grads, names):
        _close(backend.numpy(g), w, steps, f"{layer} {name}")


@pytest.mark.parametrize("layer", ["lstm", "gru", "simple_rnn"])
def test_thread_counts_give_the_same_bits(isa, layer, rng):
    """Threads take blocks of batch rows (29 rows: uneven blocks on 2 and 3 threads) and the weight
    gradients add up windows of steps (23 steps: a short last window): the same bits on any count."""
    batch, steps, features, units = 29, 23, 6, 33
    state_names = LAYERS[layer][1]
    x, dout = f32(rng, batch, steps, features), f32(rng, batch, steps, units)
    weights = _weights(rng, layer, features, units)
    init = _initial(rng, layer, batch, units)
    final_grads = {f"d{s}_T": f32(rng, batch, units) for s in state_names}
    forward, backward = getattr(ops, layer), getattr(ops, f"{layer}_backward")
    results = []
    for threads in (1, 2, 3):
        with num_threads(threads):
            out, *states, cache = forward(x, *weights, **init, return_state=True, return_cache=True)
            grads = backward(dout, x, *weights, cache, **init, **final_grads)
        results.append([out, *states, *grads])
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)
    f64 = {k: v.astype(np.float64) for k, v in {**init, **final_grads}.items()}
    w64 = [w.astype(np.float64) for w in weights]
    want_out, want_cache = getattr(reference, layer)(
        x.astype(np.float64), *w64, **{k: f64[k] for k in init}, return_cache=True
    )
    want = getattr(reference, f"{layer}_backward")(
        dout.astype(np.float64), x.astype(np.float64), *w64, want_cache, **f64
    )
    _close(results[0][0], want_out, steps, f"{layer} output")
    for g, w, name in zip(results[0][1 + len(state_names) :], want, ["dx", "dkernel", "drecurrent_kernel", "dbias"]):
        _close(g, w, steps, f"{layer} {name}")


@pytest.mark.parametrize("layer", ["lstm", "gru", "simple_rnn"])
def test_return_forms_and_state_only_gradients(backend, layer, rng):
    batch, steps, features, units = 3, 4, 2, 5
    x = f32(rng, batch, steps, features)
    weights = _weights(rng, layer, features, units)
    dev = backend.asarray
    forward = getattr(ops, layer)
    seq = backend.numpy(forward(dev(x), *map(dev, weights)))
    assert seq.shape == (batch, steps, units)
    last = backend.numpy(forward(dev(x), *map(dev, weights), return_sequences=False))
    np.testing.assert_array_equal(last, seq[:, -1])
    out, *states = forward(dev(x), *map(dev, weights), return_state=True)
    assert len(states) == len(LAYERS[layer][1])
    np.testing.assert_array_equal(backend.numpy(states[0]), seq[:, -1])
    out, cache = forward(dev(x), *map(dev, weights), return_cache=True)
    assert isinstance(cache, dict) and cache["h"].shape == (batch, steps, units)

    # no output gradient, only that of the final h: the same as dh on the last step
    dh_T = f32(rng, batch, units)
    backward = getattr(ops, f"{layer}_backward")
    only_state = backward(None, dev(x), *map(dev, weights), cache, dh_T=dev(dh_T))
    as_last = backward(dev(dh_T), dev(x), *map(dev, weights), cache)
    for a, b in zip(only_state, as_last):
        np.testing.assert_array_equal(backend.numpy(a), backend.numpy(b))


def test_strided_inputs_and_empty_batch(backend, rng):
    x = f32(rng, 3, 8, 6)[:, ::2, 1:]  # (3, 4, 5), not contiguous
    kernel, recurrent, bias = _weights(rng, "lstm", 5, 7)
    kernel_f, recurrent_f = np.asfortranarray(kernel), np.asfortranarray(recurrent)
    dev = backend.asarray
    y = backend.numpy(ops.lstm(dev(x), dev(kernel_f), dev(recurrent_f), dev(bias)))
    _close(y, reference.lstm(x.astype(np.float64), kernel, recurrent, bias), 4, "strided lstm")

    empty = np.zeros((0, 4, 5), np.float32)
    out, h, c, cache = ops.lstm(
        dev(empty), dev(kernel), dev(recurrent), dev(bias), return_state=True, return_cache=True
    )
    assert out.shape == (0, 4, 7) and h.shape == c.shape == (0, 7)
    grads = ops.lstm_backward(
        dev(np.zeros((0, 4, 7), np.float32)), dev(empty), dev(kernel), dev(recurrent), dev(bias), cache
    )
    assert [g.shape for g in grads] == [(0, 4, 5), (5, 28), (7, 28), (28,), (0, 7), (0, 7)]
    assert all(np.all(backend.numpy(g) == 0) for g in grads[1:4])


def test_lstm_matches_torch(rng):
    torch = pytest.importorskip("torch")
    batch, steps, features, units = 3, 6, 4, 5
    x = f32(rng, batch, steps, features)
    kernel, recurrent, bias = _weights(rng, "lstm", features, units)
    init = _initial(rng, "lstm", batch, units)
    layer = torch.nn.LSTM(features, units, batch_first=True)
    with torch.no_grad():  # PyTorch stores W (4U, F) in the same gate order (i, f, g, o)
        layer.weight_ih_l0.copy_(torch.from_numpy(kernel.T))
        layer.weight_hh_l0.copy_(torch.from_numpy(recurrent.T))
        layer.bias_ih_l0.copy_(torch.from_numpy(bias))
        layer.bias_hh_l0.zero_()
        want, (h, c) = layer(
            torch.from_numpy(x), (torch.from_numpy(init["h0"])[None], torch.from_numpy(init["c0"])[None])
        )
    got, h_T, c_T = ops.lstm(x, kernel, recurrent, bias, **init, return_state=True)
    for g, w in ((got, want), (h_T, h[0]), (c_T, c[0])):
        assert_close(g, w.numpy(), atol=1e-5, rtol=1e-5)


# ---- bad input ---------------------------------------------------------------------------------------


def _lstm_args(batch=2, steps=3, features=4, units=5):
    z = np.zeros
    return (
        z((batch, steps, features), np.float32),
        z((features, 4 * units), np.float32),
        z((units, 4 * units), np.float32),
        z(4 * units, np.float32),
    )


def test_bad_input_is_named():
    x, kernel, recurrent, bias = _lstm_args()
    with pytest.raises(
        ValueError, match=r"\[lstm\] x must be \(batch, timesteps, features\) float32, got \(3, 4\) float32"
    ):
        ops.lstm(x[0], kernel, recurrent, bias)
    with pytest.raises(TypeError, match=r"\[lstm\] x must be .* float32, got \(2, 3, 4\) float64"):
        ops.lstm(x.astype(np.float64), kernel, recurrent, bias)
    with pytest.raises(TypeError, match=r"\[lstm\] recurrent_kernel must be .* got \(5, 20\) float64"):
        ops.lstm(x, kernel, recurrent.astype(np.float64), bias)
    with pytest.raises(ValueError, match=r"\[lstm\] x has 4 features on its last axis but kernel is \(3, 20\)"):
        ops.lstm(x, kernel[:3], recurrent, bias)
    with pytest.raises(ValueError, match=r"\[lstm\] kernel \(4, 24\) and recurrent_kernel \(5, 20\) disagree on units"):
        ops.lstm(x, np.zeros((4, 24), np.float32), recurrent, bias)
    with pytest.raises(ValueError, match=r"\[lstm\] bias \(16,\) and recurrent_kernel \(5, 20\) disagree on units"):
        ops.lstm(x, kernel, recurrent, bias[:16])
    with pytest.raises(ValueError, match=r"\[lstm\] recurrent_kernel must be \(units, 4\*units\), got \(5, 5\)"):
        ops.lstm(x, kernel, recurrent[:, :5], bias)
    with pytest.raises(
        ValueError, match=r"\[lstm\] h0 must be \(batch, units\) = \(2, 5\) float32, got \(2, 4\) float32"
    ):
        ops.lstm(x, kernel, recurrent, bias, h0=np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"\[lstm\] c0 must be \(batch, units\)"):
        ops.lstm(x, kernel, recurrent, bias, c0=np.zeros(5, np.float32))
    with pytest.raises(TypeError, match=r"\[lstm\] h0 must be .* float64"):
        ops.lstm(x, kernel, recurrent, bias, h0=np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"\[lstm\] x must have at least one time step"):
        ops.lstm(np.zeros((2, 0, 4), np.float32), kernel, recurrent, bias)
    with pytest.raises(
        ValueError, match=r"\[simple_rnn\] bias \(20,\) and recurrent_kernel \(5, 5\) disagree on units"
    ):
        ops.simple_rnn(x, kernel[:, :5], recurrent[:, :5], bias)
    with pytest.raises(ValueError, match=r"\[simple_rnn\] recurrent_kernel must be \(units, units\), got \(5, 20\)"):
        ops.simple_rnn(x, kernel, recurrent, bias)


def test_bad_backward_input_is_named():
    x, kernel, recurrent, bias = _lstm_args()
    _, cache = ops.lstm(x, kernel, recurrent, bias, return_cache=True)
    with pytest.raises(ValueError, match=r"\[lstm_backward\] dh_seq must be \(batch, timesteps, units\) = \(2, 3, 5\)"):
        ops.lstm_backward(np.zeros((2, 4, 5), np.float32), x, kernel, recurrent, bias, cache)
    with pytest.raises(ValueError, match=r"\[lstm_backward\] dh_seq must be \(batch, units\) = \(2, 5\)"):
        ops.lstm_backward(np.zeros((2, 3), np.float32), x, kernel, recurrent, bias, cache)
    with pytest.raises(TypeError, match=r"\[lstm_backward\] dh_seq must be .* float64"):
        ops.lstm_backward(np.zeros((2, 3, 5)), x, kernel, recurrent, bias, cache)
    with pytest.raises(ValueError, match=r"\[lstm_backward\] cache must be the dict returned by lstm"):
        ops.lstm_backward(None, x, kernel, recurrent, bias, (cache["h"], cache["c"]))
    with pytest.raises(ValueError, match=r"\[lstm_backward\] cache\['gates'\] must be \(2, 3, 20\)"):
        ops.lstm_backward(None, x, kernel, recurrent, bias, {**cache, "gates": cache["gates"][:, :2]})
    with pytest.raises(ValueError, match=r"\[lstm_backward\] dc_T must be \(batch, units\)"):
        ops.lstm_backward(None, x, kernel, recurrent, bias, cache, dc_T=np.zeros((3, 5), np.float32))
    _, rnn_cache = ops.simple_rnn(x, kernel[:, :5], recurrent[:, :5], bias[:5], return_cache=True)
    with pytest.raises(ValueError, match=r"\[simple_rnn_backward\] cache must be the dict returned by simple_rnn"):
        ops.simple_rnn_backward(None, x, kernel[:, :5], recurrent[:, :5], bias[:5], {"c": rnn_cache["h"]})


def test_raw_kernels_refuse_bad_arrays():
    """The compiled module is where the checks live: called directly, it names the op and argument too."""
    from ranvier import _cpu

    x, kernel, recurrent, bias = _lstm_args()
    z = np.zeros
    with pytest.raises(
        TypeError, match=r"\[lstm\] x must be \(batch, timesteps, features\) float32, got \(2, 3, 4\) float64"
    ):
        _cpu.lstm(x.astype(np.float64), kernel, recurrent, bias)
    with pytest.raises(ValueError, match=r"\[lstm\] x has 4 features on its last axis but kernel is \(3, 20\)"):
        _cpu.lstm(x, kernel[:3], recurrent, bias)
    with pytest.raises(ValueError, match=r"\[lstm\] h0 must be \(batch, units\) = \(2, 5\) float32, got \(3, 5\)"):
        _cpu.lstm(x, kernel, recurrent, bias, z((3, 5), np.float32))
    with pytest.raises(ValueError, match=r"\[lstm\] recurrent_kernel must be \(units, 4\*units\) float32, got \(20,\)"):
        _cpu.lstm(x, kernel, recurrent[0], bias)
    with pytest.raises(TypeError, match=r"\[lstm\] bias must be an array .*, got list"):
        _cpu.lstm(x, kernel, recurrent, [0.0] * 20)
    h, c, gates = _cpu.lstm(x, kernel, recurrent, bias)
    with pytest.raises(ValueError, match=r"\[lstm_backward\] cache\['c'\] must be \(2, 3, 5\) float32"):
        _cpu.lstm_backward(None, x, kernel, recurrent, bias, {"h": h, "c": c[:, :2], "gates": gates})
    with pytest.raises(ValueError, match=r"\[simple_rnn_backward\] h0 must be \(batch, units\)"):
        _cpu.simple_rnn_backward(None, x, kernel[:, :5], recurrent[:, :5], bias[:5], {"h": h}, z((2, 4), np.float32))


def test_strided_inputs_are_read_as_their_values():
    """A strided x or state is copied once, densely, never misread."""
    x, kernel, recurrent, bias = _lstm_args()
    wide = np.zeros((2, 6, 4), np.float32)
    wide[:, ::2] = x
    h0 = np.asfortranarray(np.random.default_rng(3).standard_normal((2, 5)).astype(np.float32))
    np.testing.assert_array_equal(
        ops.lstm(wide[:, ::2], kernel, recurrent, bias, h0=h0),
        ops.lstm(x, kernel, recurrent, bias, h0=np.ascontiguousarray(h0)),
    )


# ---- GRU specifics -------------------------------------------------------------------------------------


def torch_gru_from_keras(torch, kernel, recurrent, bias):
    """torch.nn.GRU with Keras' GRU weights: torch's gates are (r, z, n), Keras' (z, r, h)."""
    features, units = kernel.shape[0], recurrent.shape[0]
    layer = torch.nn.GRU(features, units, batch_first=True)

    def reorder(w):  # columns (z, r, h) -> rows (r, z, n)
        z, r, h = np.split(w, 3, axis=-1)
        return np.ascontiguousarray(np.concatenate([r, z, h], axis=-1).T)

    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.from_numpy(reorder(kernel)))
        layer.weight_hh_l0.copy_(torch.from_numpy(reorder(recurrent)))
        layer.bias_ih_l0.copy_(torch.from_numpy(reorder(bias[0])))
        layer.bias_hh_l0.copy_(torch.from_numpy(reorder(bias[1])))
    return layer


def test_gru_matches_torch(rng):
    torch = pytest.importorskip("torch")
    batch, steps, features, units = 3, 6, 4, 5
    x = f32(rng, batch, steps, features)
    kernel, recurrent, bias = _weights(rng, "gru", features, units)
    h0 = f32(rng, batch, units)
    layer = torch_gru_from_keras(torch, kernel, recurrent, bias)
    with torch.no_grad():
        want, h = layer(torch.from_numpy(x), torch.from_numpy(h0)[None])
    got, h_T = ops.gru(x, kernel, recurrent, bias, h0=h0, return_state=True)
    assert_close(got, want.numpy(), atol=1e-5, rtol=1e-5)
    assert_close(h_T, h[0].numpy(), atol=1e-5, rtol=1e-5)


def test_gru_empty_batch_and_strided_weights(backend, rng):
    dev = backend.asarray
    kernel, recurrent, bias = _weights(rng, "gru", 5, 7)
    x = f32(rng, 3, 8, 6)[:, ::2, 1:]  # (3, 4, 5), not contiguous
    y = backend.numpy(ops.gru(dev(x), dev(np.asfortranarray(kernel)), dev(np.asfortranarray(recurrent)), dev(bias)))
    _close(y, reference.gru(x.astype(np.float64), kernel, recurrent, bias), 4, "strided gru")
    empty = np.zeros((0, 4, 5), np.float32)
    out, h, cache = ops.gru(dev(empty), dev(kernel), dev(recurrent), dev(bias), return_state=True, return_cache=True)
    assert out.shape == (0, 4, 7) and h.shape == (0, 7) and cache["gates"].shape == (0, 4, 28)
    grads = ops.gru_backward(None, dev(empty), dev(kernel), dev(recurrent), dev(bias), cache)
    assert [g.shape for g in grads] == [(0, 4, 5), (5, 21), (7, 21), (2, 21), (0, 7)]
    assert all(np.all(backend.numpy(g) == 0) for g in grads[1:4])


def test_gru_bad_input_is_named():
    x = np.zeros((2, 3, 4), np.float32)
    kernel, recurrent = np.zeros((4, 15), np.float32), np.zeros((5, 15), np.float32)
    bias = np.zeros((2, 15), np.float32)
    with pytest.raises(ValueError, match=r"\[gru\] bias must be \(2, 3\*units\) float32, got \(15,\) float32"):
        ops.gru(x, kernel, recurrent, bias[0])
    with pytest.raises(ValueError, match=r"\[gru\] bias must be \(2, 3\*units\) \(input bias, recurrent bias"):
        ops.gru(x, kernel, recurrent, np.zeros((3, 15), np.float32))
    with pytest.raises(ValueError, match=r"\[gru\] recurrent_kernel must be \(units, 3\*units\), got \(5, 20\)"):
        ops.gru(x, np.zeros((4, 20), np.float32), np.zeros((5, 20), np.float32), bias)
    with pytest.raises(ValueError, match=r"\[gru\] bias \(2, 18\) and recurrent_kernel \(5, 15\) disagree on units"):
        ops.gru(x, kernel, recurrent, np.zeros((2, 18), np.float32))
    with pytest.raises(TypeError, match=r"\[gru\] kernel must be .* float64"):
        ops.gru(x, kernel.astype(np.float64), recurrent, bias)
    _, cache = ops.gru(x, kernel, recurrent, bias, return_cache=True)
    with pytest.raises(ValueError, match=r"\[gru_backward\] cache\['gates'\] must be \(2, 3, 20\)"):
        ops.gru_backward(None, x, kernel, recurrent, bias, {**cache, "gates": cache["gates"][:, :, :15]})
    with pytest.raises(ValueError, match=r"\[gru_backward\] cache must be the dict returned by gru"):
        ops.gru_backward(None, x, kernel, recurrent, bias, {"h": cache["h"]})
    with pytest.raises(ValueError, match=r"\[gru_backward\] dh_T must be \(batch, units\)"):
        ops.gru_backward(None, x, kernel, recurrent, bias, cache, dh_T=np.zeros((3, 5), np.float32))


@pytest.mark.parametrize("return_sequences", [True, False])
def test_functional_gru_gradients_reach_h0(return_sequences, rng):
    """functional.gru records its backward for x, the weights and h0, by finite differences."""
    x = f32(rng, 2, 3, 4)
    weights = _weights(rng, "gru", 4, 3)
    h0 = f32(rng, 2, 3)

    def ours(x, kernel, recurrent, bias, h0):
        return F.gru(x, kernel, recurrent, bias, h0, return_sequences)[0]

    def theirs(x, kernel, recurrent, bias, h0):
        return reference.gru(x, kernel, recurrent, bias, h0, return_sequences=return_sequences)

    check_autograd(ours, theirs, [x, *weights, h0], atol=1e-4, rtol=1e-3)

"""sgd_update, adam_update and rmsprop_update: several in-place steps against the reference."""

import numpy as np
import pytest
from helpers import assert_close, f32

from ranvier import ops, reference

SIZES = [1, 17, 100003]
STEPS = 4


def _run(backend, update, param, states, grads, **kwargs):
    """STEPS updates through ops (in place, float32) and the reference (float64)."""
    dev = [backend.asarray(a) for a in [param, *states]]
    ref = [a.astype(np.float64) for a in [param, *states]]
    for t, g in enumerate(grads, start=1):
        step = {"step": t} if update == "adam_update" else {}
        out = getattr(ops, update)(dev[0], backend.asarray(g), *dev[1:], **step, **kwargs)
        assert all(o is d for o, d in zip(out, dev)), "ops must return the arrays it updated"
        ref = list(getattr(reference, update)(ref[0], g.astype(np.float64), *ref[1:], **step, **kwargs))
    return [backend.numpy(a) for a in dev], ref


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
@pytest.mark.parametrize("weight_decay", [0.0, 1e-2])
def test_sgd_matches_reference(backend, isa, n, momentum, nesterov, weight_decay, rng):
    param, grads = f32(rng, n), [f32(rng, n) for _ in range(STEPS)]
    states = [np.zeros(n, np.float32)] if momentum else []
    got, want = _run(
        backend,
        "sgd_update",
        param,
        states,
        grads,
        lr=0.1,
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=weight_decay,
    )
    for g, w, name in zip(got, want, ("param", "velocity")):
        assert_close(g, w, atol=1e-6, rtol=1e-5, what=name)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_matches_reference(backend, isa, n, decoupled, weight_decay, rng):
    param, grads = f32(rng, n), [f32(rng, n) for _ in range(STEPS)]
    states = [np.zeros(n, np.float32), np.zeros(n, np.float32)]
    got, want = _run(
        backend, "adam_update", param, states, grads, lr=1e-2, weight_decay=weight_decay, decoupled=decoupled
    )
    for g, w, name in zip(got, want, ("param", "m", "v")):
        assert_close(g, w, atol=1e-6, rtol=1e-5, what=name)


def test_first_adam_step_moves_by_lr(backend):
    # step 1: m_hat = g, v_hat = g^2, so param moves by lr * g / (|g| + eps)
    param = backend.asarray(np.array([1.0, -2.0, 0.5], np.float32))
    m, v = backend.asarray(np.zeros(3, np.float32)), backend.asarray(np.zeros(3, np.float32))
    grad = np.array([0.5, -3.0, 1e-3], np.float32)
    ops.adam_update(param, backend.asarray(grad), m, v, step=1, lr=0.1)
    want = np.array([1.0, -2.0, 0.5]) - 0.1 * grad / (np.abs(grad) + 1e-7)
    assert_close(backend.numpy(param), want, atol=1e-7, rtol=1e-6)


def test_sgd_without_velocity_and_nd_params(backend, rng):
    param, grad = f32(rng, 3, 4, 5), f32(rng, 3, 4, 5)
    p = backend.asarray(param.copy())
    out, vel = ops.sgd_update(p, backend.asarray(grad), lr=0.5, weight_decay=0.1)
    assert out is p and vel is None
    assert_close(
        backend.numpy(p),
        reference.sgd_update(param.astype(np.float64), grad, lr=0.5, weight_decay=0.1)[0],
        atol=1e-6,
        rtol=1e-6,
    )


def test_bad_input_is_named():
    p, g = np.zeros(6, np.float32), np.zeros(6, np.float32)
    m, v = np.zeros(6, np.float32), np.zeros(6, np.float32)
    with pytest.raises(
        TypeError, match=r"\[sgd_update\] param must be a float32 array \(updated in place\), got \(6,\) float64"
    ):
        ops.sgd_update(p.astype(np.float64), g)
    with pytest.raises(ValueError, match=r"\[sgd_update\] param must be C-contiguous: it is updated in place"):
        ops.sgd_update(np.zeros(12, np.float32)[::2], g)
    read_only = p.copy()
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match=r"\[sgd_update\] param must be writeable"):
        ops.sgd_update(read_only, g)
    with pytest.raises(ValueError, match=r"\[sgd_update\] grad must have param's shape \(6,\), got \(3, 2\)"):
        ops.sgd_update(p, g.reshape(3, 2))
    with pytest.raises(ValueError, match=r"\[sgd_update\] momentum 0.9 needs velocity="):
        ops.sgd_update(p, g, momentum=0.9)
    with pytest.raises(ValueError, match=r"\[sgd_update\] nesterov needs momentum > 0"):
        ops.sgd_update(p, g, v, nesterov=True)
    with pytest.raises(ValueError, match=r"\[sgd_update\] velocity must have param's shape"):
        ops.sgd_update(p, g, np.zeros(5, np.float32), momentum=0.9)
    with pytest.raises(TypeError, match=r"\[sgd_update\] velocity must be a float32 array"):
        ops.sgd_update(p, g, np.zeros(6), momentum=0.9)
    with pytest.raises(ValueError, match=r"\[sgd_update\] lr must be a finite number >= 0, got -0.1"):
        ops.sgd_update(p, g, lr=-0.1)
    with pytest.raises(ValueError, match=r"\[sgd_update\] param and velocity must be separate arrays"):
        ops.sgd_update(p, g, p, momentum=0.9)
    with pytest.raises(ValueError, match=r"\[adam_update\] m and v must be separate arrays"):
        ops.adam_update(p, g, m, m, step=1)
    with pytest.raises(ValueError, match=r"\[adam_update\] v must be C-contiguous"):
        ops.adam_update(p, g, m, np.zeros((6, 2), np.float32)[:, 0], step=1)
    with pytest.raises(ValueError, match=r"\[adam_update\] step must be an integer >= 1, got 0"):
        ops.adam_update(p, g, m, v, step=0)
    with pytest.raises(TypeError, match=r"\[adam_update\] step must be an integer, got float"):
        ops.adam_update(p, g, m, v, step=1.0)
    with pytest.raises(ValueError, match=r"\[adam_update\] beta1 must be in \[0, 1\), got 1.0"):
        ops.adam_update(p, g, m, v, step=1, beta1=1.0)
    with pytest.raises(ValueError, match=r"\[adam_update\] eps must be a finite number >= 0"):
        ops.adam_update(p, g, m, v, step=1, eps=float("inf"))
    with pytest.raises(TypeError, match=r"\[adam_update\] grad must be a float32 array"):
        ops.adam_update(p, g.astype(np.float16), m, v, step=1)


def test_huge_step_and_overlap_are_named():
    p, g = np.zeros(6, np.float32), np.zeros(6, np.float32)
    m, v = np.zeros(6, np.float32), np.zeros(6, np.float32)
    with pytest.raises(ValueError, match=r"\[adam_update\] step must be an integer >= 1, got 9223372036854775808"):
        ops.adam_update(p, g, m, v, step=2**63)
    with pytest.raises(ValueError, match=r"\[adam_update\] step must be an integer >= 1, got -1"):
        ops.adam_update(p, g, m, v, step=np.int64(-1))
    buf = np.zeros(12, np.float32)
    with pytest.raises(ValueError, match=r"\[adam_update\] m and v must be separate arrays, but they share memory"):
        ops.adam_update(p, g, buf[:6], buf[5:11], step=1)
    ops.adam_update(p, g, buf[:6], buf[6:], step=1)  # adjacent, not overlapping
    with pytest.raises(ValueError, match=r"\[sgd_update\] param and grad must be separate arrays"):
        ops.sgd_update(p, p)
    with pytest.raises(TypeError, match=r"\[sgd_update\] lr must be a real number, got str"):
        ops.sgd_update(p, g, lr="0.1")
    with pytest.raises(ValueError, match=r"\[sgd_update\] momentum 1.0 needs velocity="):
        ops.sgd_update(p, g, momentum=1)


def test_strided_grad_is_read_as_its_values(rng):
    """grad is only read: a strided one is copied once, densely, and may even be a view of param's buffer."""
    param, grad = f32(rng, 4, 5), f32(rng, 8, 5)
    a, b = param.copy(), param.copy()
    ops.adam_update(a, grad[::2], np.zeros_like(a), np.zeros_like(a), step=1, lr=0.1)
    ops.adam_update(b, np.ascontiguousarray(grad[::2]), np.zeros_like(b), np.zeros_like(b), step=1, lr=0.1)
    np.testing.assert_array_equal(a, b)
    buf = np.arange(8, dtype=np.float32)
    ops.sgd_update(buf[:4], buf[::2], lr=1.0)  # grad [0, 2, 4, 6], read before param changes
    np.testing.assert_array_equal(buf[:4], [0, -1, -2, -3])


def _rmsprop_run(backend, param, grads, momentum, centered, **kwargs):
    """STEPS rmsprop_update calls through ops and the reference, with the optional states when asked."""
    n = param.shape
    states = [
        np.zeros(n, np.float32),
        np.zeros(n, np.float32) if momentum else None,
        np.zeros(n, np.float32) if centered else None,
    ]
    dev = [backend.asarray(param)] + [None if s is None else backend.asarray(s) for s in states]
    ref = [param.astype(np.float64)] + [None if s is None else s.astype(np.float64) for s in states]
    for g in grads:
        out = ops.rmsprop_update(dev[0], backend.asarray(g), *dev[1:], momentum=momentum, **kwargs)
        assert all(o is d for o, d in zip(out, dev)), "ops must return the arrays it updated"
        ref = list(reference.rmsprop_update(ref[0], g.astype(np.float64), *ref[1:], momentum=momentum, **kwargs))
    return [None if a is None else backend.numpy(a) for a in dev], ref


@pytest.mark.parametrize("n", [0, 1, 7, 17, 33, 100003])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop_matches_reference(backend, isa, n, momentum, centered, rng):
    param, grads = f32(rng, n), [f32(rng, n) for _ in range(STEPS)]
    got, want = _rmsprop_run(backend, param, grads, momentum, centered, lr=1e-2, rho=0.9, eps=1e-7)
    for g, w, name in zip(got, want, ("param", "v", "velocity", "mean_grad")):
        assert (g is None) == (w is None), name
        if g is not None:
            assert_close(g, w, atol=1e-6, rtol=1e-5, what=name)


def test_rmsprop_nd_param_and_large_gradients(backend, rng):
    param, grads = f32(rng, 3, 4, 5), [1e3 * f32(rng, 3, 4, 5) for _ in range(STEPS)]
    got, want = _rmsprop_run(backend, param, grads, 0.5, True, lr=0.1, rho=0.5, eps=1e-3)
    for g, w, name in zip(got, want, ("param", "v", "velocity", "mean_grad")):
        assert_close(g, w, atol=1e-6, rtol=1e-5, what=name)


def test_first_rmsprop_step(backend):
    # step 1 from v = 0: v = (1 - rho) g^2, so param moves by lr * g / (sqrt(1 - rho) |g| + eps)
    param = backend.asarray(np.array([1.0, -2.0, 0.5, 3.0], np.float32))
    v = backend.asarray(np.zeros(4, np.float32))
    grad = np.array([0.5, -3.0, 1e-3, 0.0], np.float32)
    ops.rmsprop_update(param, backend.asarray(grad), v, lr=0.1)
    want = np.array([1.0, -2.0, 0.5, 3.0]) - 0.1 * grad / (np.sqrt(0.1) * np.abs(grad) + 1e-7)
    assert_close(backend.numpy(param), want, atol=1e-7, rtol=1e-6)


def test_rmsprop_strided_grad_and_bad_input_are_named(rng):
    param, grad = f32(rng, 4, 5), f32(rng, 8, 5)
    a, b = param.copy(), param.copy()
    ops.rmsprop_update(a, grad[::2], np.zeros_like(a))
    ops.rmsprop_update(b, np.ascontiguousarray(grad[::2]), np.zeros_like(b))
    np.testing.assert_array_equal(a, b)
    p, g, v = np.zeros(6, np.float32), np.zeros(6, np.float32), np.zeros(6, np.float32)
    with pytest.raises(TypeError, match=r"\[rmsprop_update\] param must be a float32 array \(updated in place\)"):
        ops.rmsprop_update(p.astype(np.float64), g, v)
    with pytest.raises(ValueError, match=r"\[rmsprop_update\] v must be C-contiguous"):
        ops.rmsprop_update(p, g, np.zeros((6, 2), np.float32)[:, 0])
    with pytest.raises(ValueError, match=r"\[rmsprop_update\] mean_grad must have param's shape \(6,\), got \(5,\)"):
        ops.rmsprop_update(p, g, v, mean_grad=np.zeros(5, np.float32))
    with pytest.raises(ValueError, match=r"\[rmsprop_update\] grad must have param's shape"):
        ops.rmsprop_update(p, g[:5], v)
    with pytest.raises(ValueError, match=r"\[rmsprop_update\] momentum 0.9 needs velocity="):
        ops.rmsprop_update(p, g, v, momentum=0.9)
    with pytest.raises(ValueError, match=r"\[rmsprop_update\] rho must be in \[0, 1\), got 1"):
        ops.rmsprop_update(p, g, v, rho=1)
    with pytest.raises(ValueError, match=r"\[rmsprop_update\] eps must be a finite number >= 0, got nan"):
        ops.rmsprop_update(p, g, v, eps=float("nan"))
    with pytest.raises(TypeError, match=r"\[rmsprop_update\] lr must be a real number, got NoneType"):
        ops.rmsprop_update(p, g, v, lr=None)
    with pytest.raises(ValueError, match=r"\[rmsprop_update\] v and mean_grad must be separate arrays"):
        ops.rmsprop_update(p, g, v, mean_grad=v)
    with pytest.raises(ValueError, match=r"\[rmsprop_update\] param and grad must be separate arrays"):
        ops.rmsprop_update(p, p, v)


def test_rmsprop_optimizer_with_momentum_and_centered():
    import ranvier
    from ranvier import optimizers

    w = ranvier.tensor(np.array([1.0, -2.0, 0.25], np.float32), requires_grad=True)
    opt = optimizers.RMSprop([w], learning_rate=0.1, rho=0.8, momentum=0.5, centered=True)
    p, v, vel, mg = np.array([1.0, -2.0, 0.25]), np.zeros(3), np.zeros(3), np.zeros(3)
    for _ in range(3):
        (w * w).sum().backward()
        p, v, vel, mg = reference.rmsprop_update(p, 2 * p, v, vel, mg, lr=0.1, rho=0.8, momentum=0.5)
        opt.step()
        opt.zero_grad()
    assert_close(w.numpy(), p, atol=1e-6, rtol=1e-5)
    assert opt.get_config()["centered"] is True


def test_raw_kernels_refuse_bad_arrays():
    """The compiled module is where the checks live: called directly, it names the op and argument too."""
    from ranvier import _cpu

    p, g = np.zeros(6, np.float32), np.zeros(6, np.float32)
    with pytest.raises(ValueError, match=r"\[sgd_update\] param must be C-contiguous: it is updated in place"):
        _cpu.sgd_update(np.zeros(12, np.float32)[::2], g, None, 0.1, 0.0, False, 0.0)
    with pytest.raises(ValueError, match=r"\[sgd_update\] velocity must have param's shape \(6,\), got \(5,\)"):
        _cpu.sgd_update(p, g, np.zeros(5, np.float32), 0.1, 0.9, False, 0.0)
    with pytest.raises(
        TypeError, match=r"\[sgd_update\] param must be a float32 array \(updated in place\), got \(6,\) float64"
    ):
        _cpu.sgd_update(p.astype(np.float64), g, None, 0.1, 0.0, False, 0.0)
    with pytest.raises(ValueError, match=r"\[sgd_update\] momentum 0.9 needs velocity="):
        _cpu.sgd_update(p, g, None, 0.1, 0.9, False, 0.0)
    with pytest.raises(TypeError, match=r"\[sgd_update\] grad must be an array .*, got list"):
        _cpu.sgd_update(p, [0.0] * 6, None, 0.1, 0.0, False, 0.0)
    with pytest.raises(ValueError, match=r"\[adam_update\] step must be an integer >= 1, got 0"):
        _cpu.adam_update(p, g, p.copy(), p.copy(), 0, 0.1, 0.9, 0.999, 1e-7, 0.0, False)
    with pytest.raises(ValueError, match=r"\[adam_update\] step must be an integer >= 1, got 9223372036854775808"):
        _cpu.adam_update(p, g, p.copy(), p.copy(), 2**63, 0.1, 0.9, 0.999, 1e-7, 0.0, False)
    with pytest.raises(ValueError, match=r"\[adam_update\] grad must have param's shape \(6,\), got \(3,\)"):
        _cpu.adam_update(p, g[:3], p.copy(), p.copy(), 1, 0.1, 0.9, 0.999, 1e-7, 0.0, False)
    with pytest.raises(ValueError, match=r"\[adam_update\] param and m must be separate arrays"):
        _cpu.adam_update(p, g, p, p.copy(), 1, 0.1, 0.9, 0.999, 1e-7, 0.0, False)
    with pytest.raises(ValueError, match=r"\[rmsprop_update\] velocity must be C-contiguous"):
        _cpu.rmsprop_update(p, g, p.copy(), np.zeros(12, np.float32)[::2], None, 0.1, 0.9, 1e-7, 0.9)
    with pytest.raises(ValueError, match=r"\[rmsprop_update\] momentum 0.9 needs velocity="):
        _cpu.rmsprop_update(p, g, p.copy(), None, None, 0.1, 0.9, 1e-7, 0.9)


# ---- nadam_update, adagrad_update, adamax_update, lion_update and Adam's amsgrad (Keras 3's formulas) ----

NEW_SIZES = [0, 1, 7, 17, 33, 100003]


def _keras_run(backend, update, param, states, grads, per_step, **kwargs):
    """STEPS in-place updates through ops and the reference; ``per_step(t)`` gives the step's own arguments."""
    dev = [backend.asarray(a) for a in [param, *states]]
    ref = [a.astype(np.float64) for a in [param, *states]]
    for t, g in enumerate(grads, start=1):
        out = getattr(ops, update)(dev[0], backend.asarray(g), *dev[1:], **per_step(t), **kwargs)
        assert all(o is d for o, d in zip(out, dev)), "ops must return the arrays it updated"
        ref = list(getattr(reference, update)(ref[0], g.astype(np.float64), *ref[1:], **per_step(t), **kwargs))
    return [backend.numpy(a) for a in dev], ref


def _u_product(step, beta1=0.9):
    return float(np.prod([beta1 * (1 - 0.5 * 0.96**i) for i in range(1, step + 1)]))


CASES_KERAS = {
    "nadam_update": (2, lambda t: {"step": t, "u_product": _u_product(t)}, ("param", "m", "v")),
    "adagrad_update": (1, lambda t: {}, ("param", "accumulator")),
    "adamax_update": (2, lambda t: {"step": t}, ("param", "m", "u")),
    "lion_update": (1, lambda t: {}, ("param", "m")),
}


@pytest.mark.parametrize("n", NEW_SIZES)
@pytest.mark.parametrize("update", sorted(CASES_KERAS))
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_keras_updates_match_reference(backend, isa, n, update, weight_decay, rng):
    slots, per_step, names = CASES_KERAS[update]
    param, grads = f32(rng, n), [f32(rng, n) for _ in range(STEPS)]
    states = [np.full(n, 0.1, np.float32) if update == "adagrad_update" else np.zeros(n, np.float32)]
    states += [np.zeros(n, np.float32) for _ in range(slots - 1)]
    got, want = _keras_run(backend, update, param, states, grads, per_step, lr=1e-2, weight_decay=weight_decay)
    for g, w, name in zip(got, want, names):
        assert_close(g, w, atol=1e-6, rtol=1e-5, what=f"{update} {name}")


@pytest.mark.parametrize("n", NEW_SIZES)
@pytest.mark.parametrize("decoupled", [False, True])
def test_amsgrad_matches_reference(backend, isa, n, decoupled, rng):
    param = f32(rng, n)
    # shrinking gradients, so that v falls below its running maximum and v_hat matters
    grads = [f32(rng, n) * 2.0**-t for t in range(STEPS)]
    states = [np.zeros(n, np.float32) for _ in range(3)]
    dev = [backend.asarray(a) for a in [param, *states]]
    ref = [a.astype(np.float64) for a in [param, *states]]
    for t, g in enumerate(grads, start=1):
        kw = dict(step=t, lr=1e-2, beta2=0.5, weight_decay=0.01, decoupled=decoupled)
        out = ops.adam_update(dev[0], backend.asarray(g), dev[1], dev[2], v_hat=dev[3], **kw)
        assert len(out) == 4 and all(o is d for o, d in zip(out, dev))
        ref = list(reference.adam_update(ref[0], g.astype(np.float64), ref[1], ref[2], v_hat=ref[3], **kw))
    for g, w, name in zip(dev, ref, ("param", "m", "v", "v_hat")):
        assert_close(backend.numpy(g), w, atol=1e-6, rtol=1e-5, what=name)
    if n:
        assert (backend.numpy(dev[3]) > backend.numpy(dev[2])).any(), "v_hat never exceeded v: the test proves nothing"


def test_first_steps_by_hand(backend):
    """Step 1 of each, worked out by hand from Keras' formulas."""
    p0 = np.array([1.0, -2.0, 0.5, 3.0], np.float32)
    g = np.array([0.5, -3.0, 1e-3, 0.0], np.float32)
    arr = backend.asarray
    # Lion: m = 0, so the step is -lr * sign(g) (sign(0) = 0); m becomes (1 - beta2) g
    p, m = arr(p0.copy()), arr(np.zeros(4, np.float32))
    ops.lion_update(p, arr(g), m, lr=0.1)
    assert_close(backend.numpy(p), p0 - 0.1 * np.sign(g), atol=1e-7, rtol=0)
    assert_close(backend.numpy(m), 0.01 * g, atol=1e-9, rtol=1e-6)
    # Adamax: m = 0.1 g, u = |g|, step lr / (1 - 0.9) * m / (u + eps) = lr * g / (|g| + eps)
    p, m, u = arr(p0.copy()), arr(np.zeros(4, np.float32)), arr(np.zeros(4, np.float32))
    ops.adamax_update(p, arr(g), m, u, step=1, lr=0.1)
    assert_close(backend.numpy(p), p0 - 0.1 * g / (np.abs(g) + 1e-7), atol=1e-6, rtol=1e-6)
    # Adagrad from accumulator 0.1: p -= lr g / sqrt(0.1 + g^2 + eps)
    p, acc = arr(p0.copy()), arr(np.full(4, 0.1, np.float32))
    ops.adagrad_update(p, arr(g), acc, lr=0.1)
    assert_close(backend.numpy(p), p0 - 0.1 * g / np.sqrt(0.1 + g.astype(np.float64) ** 2 + 1e-7), atol=1e-6, rtol=1e-6)
    # decoupled weight decay alone (zero gradient, Lion): p *= 1 - lr * wd
    p, m = arr(p0.copy()), arr(np.zeros(4, np.float32))
    ops.lion_update(p, arr(np.zeros(4, np.float32)), m, lr=0.1, weight_decay=0.5)
    assert_close(backend.numpy(p), p0 * 0.95, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("update", ["nadam", "adagrad", "adamax", "lion", "amsgrad"])
def test_nan_gradient_stays_nan(backend, isa, update):
    """A NaN gradient makes that parameter NaN (and its state), never a number; the others stay finite."""
    n = 19
    g = np.linspace(-1, 1, n).astype(np.float32)
    g[3] = np.nan
    p = backend.asarray(np.ones(n, np.float32))
    s = [backend.asarray(np.zeros(n, np.float32)) for _ in range(3)]
    grad = backend.asarray(g)
    for step in (1, 2):  # the second step also reads the NaN state the first left
        if update == "nadam":
            ops.nadam_update(p, grad, s[0], s[1], step=step, u_product=_u_product(step))
        elif update == "adagrad":
            ops.adagrad_update(p, grad, s[0])
        elif update == "adamax":
            ops.adamax_update(p, grad, s[0], s[1], step=step)
        elif update == "lion":
            ops.lion_update(p, grad, s[0])
        else:
            ops.adam_update(p, grad, s[0], s[1], step=step, v_hat=s[2])
    out = backend.numpy(p)
    assert np.isnan(out[3]) and np.isfinite(np.delete(out, 3)).all()


def test_nan_in_state_stays_nan(isa):
    """Adamax's u and AMSGrad's v_hat take a maximum: a NaN already there must not be replaced by |g|."""
    n = 9
    u = np.zeros(n, np.float32)
    u[2] = np.nan
    p, m = np.ones(n, np.float32), np.zeros(n, np.float32)
    ops.adamax_update(p, np.ones(n, np.float32), m, u, step=1)
    assert np.isnan(u[2]) and np.isnan(p[2]) and np.isfinite(np.delete(p, 2)).all()
    v_hat = np.zeros(n, np.float32)
    v_hat[5] = np.nan
    p, m, v = np.ones(n, np.float32), np.zeros(n, np.float32), np.zeros(n, np.float32)
    ops.adam_update(p, np.ones(n, np.float32), m, v, step=1, v_hat=v_hat)
    assert np.isnan(v_hat[5]) and np.isnan(p[5]) and np.isfinite(np.delete(p, 5)).all()


def test_keras_updates_bad_input_is_named():
    p, g, a, b = (np.zeros(6, np.float32) for _ in range(4))
    with pytest.raises(ValueError, match=r"\[nadam_update\] u_product must be in \(0, 1\), got 0"):
        ops.nadam_update(p, g, a, b, step=1, u_product=0)
    with pytest.raises(ValueError, match=r"\[nadam_update\] step must be an integer >= 1, got 0"):
        ops.nadam_update(p, g, a, b, step=0, u_product=0.5)
    with pytest.raises(ValueError, match=r"\[nadam_update\] m and v must be separate arrays"):
        ops.nadam_update(p, g, a, a, step=1, u_product=0.5)
    with pytest.raises(ValueError, match=r"\[adagrad_update\] accumulator must have param's shape \(6,\), got \(5,\)"):
        ops.adagrad_update(p, g, np.zeros(5, np.float32))
    with pytest.raises(ValueError, match=r"\[adagrad_update\] eps must be a finite number >= 0, got -1"):
        ops.adagrad_update(p, g, a, eps=-1)
    with pytest.raises(TypeError, match=r"\[adamax_update\] u must be a float32 array"):
        ops.adamax_update(p, g, a, np.zeros(6), step=1)
    with pytest.raises(ValueError, match=r"\[adamax_update\] beta2 must be in \[0, 1\), got 1.5"):
        ops.adamax_update(p, g, a, b, step=1, beta2=1.5)
    with pytest.raises(ValueError, match=r"\[lion_update\] m must be C-contiguous"):
        ops.lion_update(p, g, np.zeros(12, np.float32)[::2])
    with pytest.raises(ValueError, match=r"\[lion_update\] weight_decay must be a finite number >= 0"):
        ops.lion_update(p, g, a, weight_decay=float("nan"))
    with pytest.raises(ValueError, match=r"\[lion_update\] param and grad must be separate arrays"):
        ops.lion_update(p, p, a)
    with pytest.raises(ValueError, match=r"\[adam_update\] v and v_hat must be separate arrays"):
        ops.adam_update(p, g, a, b, step=1, v_hat=b)
    with pytest.raises(ValueError, match=r"\[adam_update\] v_hat must have param's shape"):
        ops.adam_update(p, g, a, b, step=1, v_hat=np.zeros(3, np.float32))


@pytest.mark.parametrize(
    "op, extra",
    [
        ("adam_update", {"beta2": 1 - 1e-9}),
        ("adam_update", {"beta1": 1 - 1e-9}),
        ("rmsprop_update", {"rho": 1 - 1e-10}),
    ],
)
def test_a_decay_rate_that_rounds_to_one_in_float32_is_refused(op, extra):
    """1 - 1e-9 is below 1 as a double but 1.0f in the kernels: Adam's bias correction would divide by 0."""
    p, g = np.ones(5, np.float32), np.ones(5, np.float32)
    slots = {"m": np.zeros(5, np.float32), "v": np.zeros(5, np.float32), "step": 1}
    if op == "rmsprop_update":
        slots = {"v": np.zeros(5, np.float32)}
    name = next(iter(extra))
    with pytest.raises(ValueError, match=rf"\[{op}\] {name} must be below 1 in float32"):
        getattr(ops, op)(p, g, **slots, **extra)
    assert np.all(p == 1)  # refused before any write

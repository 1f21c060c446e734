"""The Keras 3 optimizer surface: Nadam, Adagrad, Adamax, Lion, amsgrad, clipnorm / clipvalue /
global_clipnorm, decoupled weight_decay on every optimizer, schedules as learning rates, constraints,
state_dict and get_config. Each against hand or NumPy values, and against keras.optimizers itself where
Keras (torch backend) is installed."""

import math
import os
import zlib

import numpy as np
import pytest
from helpers import assert_close

import ranvier
from ranvier import optimizers, reference, schedules
from ranvier.tensor import Tensor

SHAPES = [(3, 4), (5,), (1,)]


def _weights_and_grads(seed, steps):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(steps)]
    return weights, grads


def _ranvier_run(make, weights, grads):
    params = [ranvier.tensor(w.copy(), requires_grad=True) for w in weights]
    opt = make()
    opt.set_params(params)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = Tensor(g.copy())
        opt.step()
    return [p.numpy() for p in params], opt


# ranvier's Adam adds epsilon to sqrt(v_hat) (PyTorch's placement, see ops.adam_update) and its RMSprop to
# sqrt(v), where Keras adds it to sqrt(v) and inside the root: the cases that are not about epsilon set it
# to 1e-12, where both placements agree to float32 rounding; "adam" keeps the default, within 1e-5.
KERAS_CASES = {
    "sgd_momentum": ("SGD", dict(learning_rate=0.1, momentum=0.9)),
    "sgd_nesterov_wd": ("SGD", dict(learning_rate=0.05, momentum=0.5, nesterov=True, weight_decay=0.1)),
    "adam": ("Adam", dict(learning_rate=0.01)),
    "adam_amsgrad": ("Adam", dict(learning_rate=0.01, amsgrad=True, beta_2=0.9, epsilon=1e-12)),
    "adam_wd_clipnorm": ("Adam", dict(learning_rate=0.01, weight_decay=0.1, clipnorm=1.0, epsilon=1e-12)),
    "adamw": ("AdamW", dict(learning_rate=0.01, epsilon=1e-12)),
    "nadam": ("Nadam", dict(learning_rate=0.01)),
    "nadam_wd": ("Nadam", dict(learning_rate=0.01, beta_1=0.8, weight_decay=0.05)),
    "adagrad": ("Adagrad", dict(learning_rate=0.1)),
    "adagrad_clipvalue": ("Adagrad", dict(learning_rate=0.1, initial_accumulator_value=0.5, clipvalue=0.7)),
    "adamax": ("Adamax", dict(learning_rate=0.01)),
    "adamax_global_clip": ("Adamax", dict(learning_rate=0.01, global_clipnorm=2.0)),
    "lion": ("Lion", dict(learning_rate=0.01)),
    "lion_wd": ("Lion", dict(learning_rate=0.01, beta_1=0.5, weight_decay=0.3)),
    "rmsprop_momentum_clip": ("RMSprop", dict(learning_rate=0.01, momentum=0.5, clipnorm=0.5, epsilon=1e-12)),
}


@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_matches_keras(case):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("these comparisons run Keras on its torch backend")
    name, kwargs = KERAS_CASES[case]
    weights, grads = _weights_and_grads(zlib.crc32(case.encode()), steps=5)
    variables = [keras.Variable(w.copy()) for w in weights]
    keras_opt = getattr(keras.optimizers, name)(**kwargs)
    for step_grads in grads:
        keras_opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in step_grads], variables))
    got, opt = _ranvier_run(lambda: getattr(optimizers, name)(**kwargs), weights, grads)
    tolerance = 1e-5 if case == "adam" else 1e-6
    for g, v in zip(got, variables):
        assert_close(g, keras.ops.convert_to_numpy(v), atol=tolerance, rtol=tolerance, what=case)
    assert opt.iterations == int(keras_opt.iterations) == 5


def test_schedule_learning_rate_matches_keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("these comparisons run Keras on its torch backend")
    weights, grads = _weights_and_grads(7, steps=6)
    variables = [keras.Variable(w.copy()) for w in weights]
    keras_opt = keras.optimizers.Adam(
        keras.optimizers.schedules.ExponentialDecay(0.05, 2, 0.5, staircase=True), epsilon=1e-12
    )
    for step_grads in grads:
        keras_opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in step_grads], variables))
    schedule = schedules.ExponentialDecay(0.05, 2, 0.5, staircase=True)
    got, opt = _ranvier_run(lambda: optimizers.Adam(schedule, epsilon=1e-12), weights, grads)
    for g, v in zip(got, variables):
        assert_close(g, keras.ops.convert_to_numpy(v), atol=1e-6, rtol=1e-6)
    assert math.isclose(opt.learning_rate, float(keras_opt.learning_rate), rel_tol=1e-6)


# ---- without Keras: the same formulas against NumPy and hand values --------------------------


def _numpy_steps(update, slots, weights, grads, per_step, **kwargs):
    """The reference update, per weight, in float64."""
    out = []
    for i, w in enumerate(weights):
        state = [w.astype(np.float64)] + [np.full(w.shape, v, np.float64) for v in slots]
        for t, step_grads in enumerate(grads, start=1):
            result = getattr(reference, update)(
                state[0], step_grads[i].astype(np.float64), *state[1:], **per_step(t), **kwargs
            )
            state = list(result)
        out.append(state[0])
    return out


def _u_product(t, beta1=0.9):
    return math.prod(beta1 * (1 - 0.5 * 0.96**i) for i in range(1, t + 1))


REFERENCE_CASES = {
    "Nadam": ("nadam_update", (0, 0), lambda t: {"step": t, "u_product": _u_product(t)}, {}),
    "Adagrad": ("adagrad_update", (0.1,), lambda t: {}, {}),
    "Adamax": ("adamax_update", (0, 0), lambda t: {"step": t}, {}),
    "Lion": ("lion_update", (0,), lambda t: {}, {"beta2": 0.99}),
}


@pytest.mark.parametrize("name", sorted(REFERENCE_CASES))
@pytest.mark.parametrize("weight_decay", [None, 0.2])
def test_new_optimizers_match_reference(name, weight_decay):
    update, slots, per_step, extra = REFERENCE_CASES[name]
    weights, grads = _weights_and_grads(11, steps=4)
    got, _ = _ranvier_run(
        lambda: getattr(optimizers, name)(learning_rate=0.02, weight_decay=weight_decay), weights, grads
    )
    want = _numpy_steps(update, slots, weights, grads, per_step, lr=0.02, weight_decay=weight_decay or 0.0, **extra)
    for g, w in zip(got, want):
        assert_close(g, w, atol=1e-6, rtol=1e-5, what=name)


def test_adam_amsgrad_and_weight_decay_match_reference():
    weights, grads = _weights_and_grads(12, steps=4)
    got, opt = _ranvier_run(lambda: optimizers.Adam(learning_rate=0.02, amsgrad=True, weight_decay=0.1), weights, grads)
    for i, w in enumerate(weights):
        p, m, v, v_hat = w.astype(np.float64), np.zeros(w.shape), np.zeros(w.shape), np.zeros(w.shape)
        for t, step_grads in enumerate(grads, start=1):
            g = step_grads[i].astype(np.float64)
            p, m, v, v_hat = reference.adam_update(
                p, g, m, v, t, lr=0.02, weight_decay=0.1, decoupled=True, v_hat=v_hat
            )
        assert_close(got[i], p, atol=1e-6, rtol=1e-5)
    assert {slot for (_, slot) in opt._state} == {"m", "v", "v_hat"}


def test_weight_decay_is_decoupled_on_sgd_by_hand():
    # Keras: p -= lr * wd * p first, then the step: 2 - 0.1 * 0.5 * 2 = 1.9, then 1.9 - 0.1 * 1 = 1.8
    w = ranvier.tensor(np.array([2.0], np.float32), requires_grad=True)
    opt = optimizers.SGD([w], learning_rate=0.1, weight_decay=0.5)
    w.grad = Tensor(np.array([1.0], np.float32))
    opt.step()
    assert_close(w.numpy(), [1.8], atol=1e-7, rtol=0)


def test_exclude_from_weight_decay():
    a = Tensor(np.ones(3, np.float32), requires_grad=True, name="dense/kernel")
    b = Tensor(np.ones(3, np.float32), requires_grad=True, name="dense/bias")
    opt = optimizers.SGD([a, b], learning_rate=0.1, weight_decay=1.0)
    opt.exclude_from_weight_decay(var_names=["bias"])
    a.grad, b.grad = Tensor(np.zeros(3, np.float32)), Tensor(np.zeros(3, np.float32))
    opt.step()
    assert_close(a.numpy(), np.full(3, 0.9), atol=1e-7, rtol=0)
    np.testing.assert_array_equal(b.numpy(), np.ones(3))


def _one_step(opt_kwargs, grads, weights=None):
    weights = weights or [np.zeros(g.shape, np.float32) for g in grads]
    params = [ranvier.tensor(w.copy(), requires_grad=True) for w in weights]
    opt = optimizers.SGD(params, learning_rate=1.0, **opt_kwargs)
    for p, g in zip(params, grads):
        p.grad = Tensor(np.asarray(g, np.float32))
    opt.step()
    return [-p.numpy() for p in params]  # with lr 1 from 0, minus the weight is the applied gradient


def test_clip_semantics_by_hand():
    g1, g2 = np.array([3.0, 4.0]), np.array([0.0, 12.0])  # norms 5 and 12, together 13
    a, b = _one_step({"clipnorm": 6.0}, [g1, g2])
    assert_close(a, g1, atol=1e-6, rtol=0)  # under the clip: unchanged
    assert_close(b, g2 * 6 / 12, atol=1e-6, rtol=0)
    a, b = _one_step({"global_clipnorm": 6.5}, [g1, g2])
    assert_close(a, g1 * 0.5, atol=1e-6, rtol=0)
    assert_close(b, g2 * 0.5, atol=1e-6, rtol=0)
    a, b = _one_step({"clipvalue": 3.5}, [g1, g2])
    assert_close(a, [3.0, 3.5], atol=1e-6, rtol=0)
    assert_close(b, [0.0, 3.5], atol=1e-6, rtol=0)
    a, b = _one_step({"global_clipnorm": 100.0}, [g1, g2])
    assert_close(b, g2, atol=1e-6, rtol=0)


def test_clip_leaves_the_gradient_itself_alone():
    w = ranvier.tensor(np.zeros(2, np.float32), requires_grad=True)
    g = np.array([30.0, 40.0], np.float32)
    w.grad = Tensor(g.copy())
    optimizers.SGD([w], clipnorm=1.0).step()
    np.testing.assert_array_equal(w.grad.numpy(), g)


@pytest.mark.parametrize("clip", [{"clipnorm": 1.0}, {"clipvalue": 1.0}, {"global_clipnorm": 1.0}])
def test_clip_keeps_nan(clip):
    """A NaN gradient is never clipped into a number (clipnorm and global_clipnorm make the whole scaled
    gradient NaN, as Keras; clipvalue keeps the NaN element)."""
    g = np.array([np.nan, 2.0, -3.0])
    a, b = _one_step(clip, [g, np.array([0.5])])
    assert np.isnan(a[0])
    if "clipvalue" in clip:
        assert_close(a[1:], [1.0, -1.0], atol=0, rtol=0)
        assert_close(b, [0.5], atol=0, rtol=0)
    else:
        assert np.isnan(a).all()
        assert np.isnan(b).all() == ("global_clipnorm" in clip)


def test_inf_gradient_with_global_clip_is_nan():
    a, b = _one_step({"global_clipnorm": 1.0}, [np.array([np.inf, 1.0]), np.array([2.0])])
    assert np.isnan(a).all() and np.isnan(b).all()


def test_only_one_clip_and_bad_values_are_named():
    with pytest.raises(ValueError, match=r"\[Adam\] only one of clipnorm, clipvalue and global_clipnorm"):
        optimizers.Adam(clipnorm=1.0, clipvalue=0.5)
    with pytest.raises(ValueError, match=r"\[Nadam\] clipnorm must be a finite number >= 0, got -1"):
        optimizers.Nadam(clipnorm=-1)
    with pytest.raises(TypeError, match=r"\[Lion\] weight_decay must be a number or None, got str"):
        optimizers.Lion(weight_decay="0.1")
    with pytest.raises(ValueError, match=r"\[Lion\] beta_1 must be in \(0, 1\], got 0"):
        optimizers.Lion(beta_1=0)
    with pytest.raises(ValueError, match=r"\[Adagrad\] initial_accumulator_value must be a finite number >= 0"):
        optimizers.Adagrad(initial_accumulator_value=-0.1)
    with pytest.raises(TypeError, match=r"\[SGD\] learning_rate must be a number or a LearningRateSchedule"):
        optimizers.SGD(learning_rate="fast")
    with pytest.raises(ValueError, match=r"\[Adam\] use_ema=True is not supported by ranvier"):
        optimizers.Adam(use_ema=True)
    with pytest.raises(TypeError, match=r"\[Adamax\] unexpected argument 'beta3'"):
        optimizers.Adamax(beta3=0.5)
    assert optimizers.AdamW(use_ema=False, gradient_accumulation_steps=None).name == "adam_w"
    assert optimizers.RMSprop(name="rms").name == "rms"


def test_get_by_name_and_defaults():
    for name, cls in [("nadam", "Nadam"), ("adagrad", "Adagrad"), ("adamax", "Adamax"), ("lion", "Lion")]:
        opt = optimizers.get(name)
        assert type(opt).__name__ == cls and opt.learning_rate == 0.001
    assert optimizers.Lion().beta_2 == 0.99 and optimizers.Adagrad().epsilon == 1e-7
    assert optimizers.Adagrad().initial_accumulator_value == 0.1
    assert optimizers.AdamW().weight_decay == 0.004 and optimizers.Adam().weight_decay is None
    assert optimizers.schedules is schedules


def test_schedule_is_read_at_iterations_and_not_settable_to_a_float():
    sched = schedules.PiecewiseConstantDecay([1, 2], [0.5, 0.25, 0.125])
    w = ranvier.tensor(np.zeros(1, np.float32), requires_grad=True)
    opt = optimizers.SGD([w], learning_rate=sched)
    moves = []
    for _ in range(4):
        before = float(w.numpy()[0])
        w.grad = Tensor(np.ones(1, np.float32))
        opt.step()
        moves.append(before - float(w.numpy()[0]))
    # steps at iterations 0, 1, 2, 3: step <= 1 -> 0.5, 1 < step <= 2 -> 0.25, after -> 0.125
    assert_close(moves, [0.5, 0.5, 0.25, 0.125], atol=1e-7, rtol=0)
    assert opt.iterations == 4 and opt.learning_rate == 0.125
    with pytest.raises(
        TypeError, match=r"\[SGD\] learning_rate: this optimizer was created with a LearningRateSchedule"
    ):
        opt.learning_rate = 0.1
    opt.learning_rate = schedules.ExponentialDecay(1.0, 1, 0.5)  # another schedule replaces it
    assert opt.learning_rate == 0.5**4
    plain = optimizers.Adam(learning_rate=0.1)
    plain.learning_rate = 0.05  # callbacks (LearningRateScheduler, ReduceLROnPlateau) set floats
    assert plain.learning_rate == plain.lr == 0.05


def test_state_dict_and_config_round_trip_with_new_slots():
    weights, grads = _weights_and_grads(3, steps=3)
    for make in [
        lambda: optimizers.Nadam(learning_rate=schedules.CosineDecay(0.01, 10), clipnorm=1.0),
        lambda: optimizers.Adagrad(initial_accumulator_value=0.2, weight_decay=0.01),
        lambda: optimizers.Adamax(global_clipnorm=1.0),
        lambda: optimizers.Lion(clipvalue=0.5),
        lambda: optimizers.Adam(amsgrad=True),
    ]:
        _, opt = _ranvier_run(make, weights, grads[:2])
        state = opt.state_dict()
        fresh_params = [ranvier.tensor(w.copy(), requires_grad=True) for w in weights]
        resumed = make()
        resumed.set_params(fresh_params)
        resumed.load_state_dict(state)
        assert resumed.get_config() == opt.get_config() and resumed.iterations == 2
        # the next step from the restored state equals the next step of the original
        for p, q, g in zip(opt.params, fresh_params, grads[2]):
            q.data[...] = p.data
            p.grad, q.grad = Tensor(g.copy()), Tensor(g.copy())
        opt.step()
        resumed.step()
        for p, q in zip(opt.params, fresh_params):
            np.testing.assert_array_equal(p.numpy(), q.numpy())
    config = optimizers.Nadam(learning_rate=schedules.CosineDecay(0.01, 10)).get_config()
    assert config["learning_rate"] == {
        "class_name": "CosineDecay",
        "config": schedules.CosineDecay(0.01, 10).get_config(),
    }
    assert isinstance(optimizers.Nadam(**config)._learning_rate, schedules.CosineDecay)


def test_constraint_is_applied_after_the_step_and_frozen_weights_never_move():
    from ranvier import constraints

    w = ranvier.tensor(np.array([1.0, -1.0], np.float32), requires_grad=True)
    w.constraint = constraints.NonNeg()
    frozen = ranvier.tensor(np.array([-5.0], np.float32), requires_grad=False)
    frozen.constraint = constraints.NonNeg()
    opt = optimizers.SGD([w, frozen], learning_rate=1.0)
    w.grad = Tensor(np.array([2.0, -0.5], np.float32))
    opt.step()
    assert_close(w.numpy(), [0.0, 0.0], atol=0, rtol=0)  # [-1, -0.5] projected
    np.testing.assert_array_equal(frozen.numpy(), [-5.0])

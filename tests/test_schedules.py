"""ranvier.schedules: Keras 3's learning-rate schedules, their values at several steps (by hand and against
keras.optimizers.schedules), their configs and their refusals."""

import math
import os

import pytest

from ranvier import schedules

STEPS = [0, 1, 2, 3, 5, 9, 10, 11, 17, 100]

CASES = {
    "exponential": ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=4, decay_rate=0.5)),
    "exponential_staircase": (
        "ExponentialDecay",
        dict(initial_learning_rate=0.1, decay_steps=4, decay_rate=0.5, staircase=True),
    ),
    "piecewise": ("PiecewiseConstantDecay", dict(boundaries=[2, 9], values=[1.0, 0.5, 0.1])),
    "polynomial": (
        "PolynomialDecay",
        dict(initial_learning_rate=0.1, decay_steps=10, end_learning_rate=0.01, power=2.0),
    ),
    "polynomial_cycle": ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=4, cycle=True)),
    "inverse_time": ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5)),
    "inverse_time_staircase": (
        "InverseTimeDecay",
        dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5, staircase=True),
    ),
    "cosine": ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=10, alpha=0.1)),
    "cosine_warmup": (
        "CosineDecay",
        dict(initial_learning_rate=0.0, decay_steps=10, warmup_target=0.2, warmup_steps=5),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_match_keras(case):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    name, kwargs = CASES[case]
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    for step in STEPS:
        want = float(keras.ops.convert_to_numpy(theirs(step)))
        assert math.isclose(ours(step), want, rel_tol=1e-6, abs_tol=1e-9), (case, step, ours(step), want)


def test_values_by_hand():
    assert schedules.ExponentialDecay(0.1, 4, 0.5)(6) == pytest.approx(0.1 * 0.5**1.5)
    assert schedules.ExponentialDecay(0.1, 4, 0.5, staircase=True)(7) == pytest.approx(0.05)
    piecewise = schedules.PiecewiseConstantDecay([2, 9], [1.0, 0.5, 0.1])
    assert [piecewise(s) for s in (0, 2, 3, 9, 10)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    assert schedules.InverseTimeDecay(0.1, 3, 0.5)(6) == pytest.approx(0.1 / 2)
    assert schedules.PolynomialDecay(0.1, 10, 0.0, power=1.0)(5) == pytest.approx(0.05)
    assert schedules.PolynomialDecay(0.1, 10, 0.0)(50) == pytest.approx(0.0)  # held at the end
    cosine = schedules.CosineDecay(1.0, 10, alpha=0.0)
    assert (cosine(0), cosine(5), cosine(10), cosine(20)) == pytest.approx((1.0, 0.5, 0.0, 0.0))
    warm = schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4)
    assert (warm(0), warm(2), warm(4), warm(9), warm(14)) == pytest.approx((0.0, 0.5, 1.0, 0.5, 0.0))


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip(case):
    name, kwargs = CASES[case]
    schedule = getattr(schedules, name)(**kwargs)
    again = schedules.get(schedules.serialize(schedule))
    assert type(again) is type(schedule) and again.get_config() == schedule.get_config()
    assert [again(s) for s in STEPS] == [schedule(s) for s in STEPS]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"\[ExponentialDecay\] decay_steps must be a finite number > 0, got 0"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(TypeError, match=r"\[CosineDecay\] initial_learning_rate must be a real number, got str"):
        schedules.CosineDecay("0.1", 10)
    with pytest.raises(ValueError, match=r"\[PiecewiseConstantDecay\] values must have one more element"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"\[PiecewiseConstantDecay\] boundaries must increase"):
        schedules.PiecewiseConstantDecay([3, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"\[schedules\] expected a LearningRateSchedule"):
        schedules.get({"class_name": "os.system", "config": {}})


def test_a_custom_schedule_subclass_works():
    class Halving(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 1.0 / 2**step

        def get_config(self):
            return {}

    from ranvier import optimizers

    opt = optimizers.SGD(learning_rate=Halving())
    opt.iterations = 3
    assert opt.learning_rate == 0.125

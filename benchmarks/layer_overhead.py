"""Python cost of one layer call inside ``fit`` and ``predict``, beyond its kernels.

    PYTHONPATH=python python benchmarks/layer_overhead.py [--rounds 5]

Two MLPs of small Dense layers (16 units, batch 8, so the kernels take little time) differ only in depth
(SHALLOW and DEEP layers). A layer's cost is the slope: (time per step of the deep model - of the shallow
one) / (DEEP - SHALLOW), less the same slope of the kernels alone, timed by replaying a recording of the
same step (``ranvier._cpu.StepPlan``: the kernel calls without Python). Measured for eager models and for
models compiled with ``jit_compile=True`` (steps replayed); the median over ``--rounds`` rounds.
"""

import argparse
import statistics
import time

import numpy as np

import ranvier
from ranvier import _cpu, backend, layers, optimizers

SHALLOW, DEEP = 4, 36
BATCH, UNITS, STEPS = 8, 16, 64


def model_of(depth: int, jit: bool):
    model = ranvier.Sequential(
        [layers.Dense(UNITS, activation="relu", input_shape=(UNITS,)) for _ in range(depth)]
        + [layers.Dense(4, activation="softmax")]
    )
    model.compile(optimizer=optimizers.SGD(0.01), loss="sparse_categorical_crossentropy", jit_compile=jit)
    return model


def per_step(fn, steps: int) -> float:
    fn()
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) / steps


def replayed_time(step) -> float:
    """``step()``'s kernels alone: the call recorded once, then replayed."""
    plan = _cpu.StepPlan()
    plan.start()
    try:
        step()
    finally:
        plan.stop()
    return per_step(lambda: [plan.run(0.01, 1) for _ in range(STEPS)], STEPS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    assert backend.kernels(np.zeros(1, np.float32)) is _cpu
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH * STEPS, UNITS), dtype=np.float32)
    y = rng.integers(0, 4, BATCH * STEPS)
    results = {}
    for _ in range(args.rounds):
        for jit in (False, True):
            times = {}
            for depth in (SHALLOW, DEEP):
                model = model_of(depth, jit)
                model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, shuffle=False)  # records, checks
                model.predict(x, batch_size=BATCH, verbose=0)
                model.predict(x, batch_size=BATCH, verbose=0)
                fit = per_step(lambda m=model: m.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False), STEPS)
                predict = per_step(lambda m=model: m.predict(x, batch_size=BATCH, verbose=0), STEPS)
                train_kernels = replayed_time(lambda m=model: m._optimizer_step(x[:BATCH], y[:BATCH]))
                predict_kernels = replayed_time(lambda m=model: m._eager_predict_step(x[:BATCH]))
                times[depth] = (fit, train_kernels, predict, predict_kernels)
            slope = [(times[DEEP][i] - times[SHALLOW][i]) / (DEEP - SHALLOW) for i in range(4)]
            for name, value in (("fit", slope[0] - slope[1]), ("predict", slope[2] - slope[3])):
                results.setdefault((name, jit), []).append(value)
    print(f"Python cost of one Dense layer call beyond its kernels ({BATCH}x{UNITS}, {args.rounds} rounds, median)")
    for (name, jit), values in results.items():
        mode = "jit_compile=True" if jit else "eager"
        print(f"  {name:8s} {mode:17s} {statistics.median(values) * 1e6:6.2f} us per layer")


if __name__ == "__main__":
    main()

"""Where a training step of each seed network spends its time: every kernel call of the replayed step.

    PYTHONPATH=python python benchmarks/step_profile.py [--filter MNIST] [--repeats 20]

Each network of ``python -m ranvier bench --train`` is compiled with ``jit_compile=True`` and trained
until its step replays; then the recorded step is replayed ``--repeats`` times with every kernel call
timed (``StepReplay.profile``). Printed per network: the step's time in ``fit`` (samples/s), the kernels'
sum, and each op's share (calls of the same op added up), largest first. The rest of the step is the
fit loop's Python (batching, callbacks, logs) and the replay's copies of the batch.
"""

import argparse
import time
from collections import defaultdict

import numpy as np

from ranvier.bench import networks

STEPS = 16


def profile(network, repeats: int) -> None:
    rng = np.random.default_rng(0)
    x, y = network.data(rng, network.batch * STEPS)
    model = network.build_ranvier()
    model.compile(optimizer=networks.optimizer_for(network), loss="sparse_categorical_crossentropy", jit_compile=True)
    model.fit(x, y, batch_size=network.batch, epochs=2, verbose=0, shuffle=False)
    start = time.perf_counter()
    model.fit(x, y, batch_size=network.batch, epochs=1, verbose=0, shuffle=False)
    step = (time.perf_counter() - start) / STEPS
    try:
        calls = model._step_replay.profile("fit", repeats)
    except ValueError:
        print(f"\n{network.name}: not replayed ({model._step_replay.status()[-1][2]})")
        return
    by_op = defaultdict(lambda: [0.0, 0])
    for op, seconds in calls:
        by_op[op][0] += seconds
        by_op[op][1] += 1
    kernels = sum(seconds for seconds, _ in by_op.values())
    print(
        f"\n{network.name}, batch {network.batch}: step {step * 1e3:.2f} ms in fit "
        f"({network.batch / step:,.0f} samples/s), kernels {kernels * 1e3:.2f} ms ({kernels / step:.0%})"
    )
    for op, (seconds, count) in sorted(by_op.items(), key=lambda item: -item[1][0]):
        print(f"  {op:32s} x{count:<3d} {seconds * 1e3:8.3f} ms  {seconds / step:6.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--filter", action="append", default=[], help="networks whose name contains this")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    for network in networks.select(args.filter):
        profile(network, args.repeats)


if __name__ == "__main__":
    main()

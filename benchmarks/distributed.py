"""Data-parallel scaling of the main job's CNN: 1 rank x 1 thread against 2 ranks x 1 thread.

    python benchmarks/distributed.py [--steps 60] [--batch-per-rank 64] [--ranks 2] [--overlap both]

Trains the seed MNIST CNN of ``python -m ranvier train --model cnn`` (28x28x1
inputs: MNIST's shape, random values: speed does not depend on them) with
Adam through ``model.fit``; each rank keeps ``--batch-per-rank`` samples a
step (weak scaling, as DDP and Horovod report it). The 1-rank run is a plain
process (no MPI); the others run under ``mpiexec`` with
``DataParallel``, once with the buckets reduced while backward runs and once
after it (``--overlap``). Prints samples/s, scaling efficiency (samples/s over
ranks x the 1-rank samples/s), and the communication that backward did not
hide: the time the step waited for gradient buckets, less the time it waited
for the slower rank to end its backward (the ranks' end times, on one
machine's monotonic clock, tell the two apart), as a share of the step and
against the time the same buckets take to reduce on their own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def worker(steps: int, batch_per_rank: int, overlap: str = "auto") -> None:
    import ranvier
    from ranvier import train

    distributed = "OMPI_COMM_WORLD_SIZE" in os.environ or "PMI_SIZE" in os.environ
    strategy = None
    if distributed:
        from ranvier import distributed as dist

        strategy = dist.DataParallel(overlap={"on": True, "off": False}.get(overlap, overlap))
    ranks = strategy.world_size if strategy else 1
    ranvier.set_num_threads(1)
    ranvier.utils.set_seed(0)
    model = train.build_model("cnn", (28, 28, 1), 10)
    model.compile(optimizer=ranvier.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", distribute=strategy)
    batch = batch_per_rank * ranks
    rng = np.random.default_rng(0)
    x = rng.random((batch * steps, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, batch * steps)
    model.fit(x[: batch * 5], y[: batch * 5], batch_size=batch, epochs=1, verbose=0)  # warm-up
    if strategy:
        strategy.reducer.step_log = []
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    result = {"ranks": ranks, "samples_per_second": len(x) / seconds, "step_ms": seconds / steps * 1e3}
    if strategy:
        result["overlap"] = strategy.reducer.overlap
    if strategy:
        waits, skew = exposed_and_skew(strategy.reducer.step_log)
        result["waited_ms"] = waits / steps * 1e3
        result["skew_ms"] = skew / steps * 1e3
        result["exposed_ms"] = (waits - skew) / steps * 1e3
        result["reduce_alone_ms"] = reduce_alone_ms(strategy.reducer)
        result["buckets_kb"] = [b.buffer.nbytes // 1024 for b in strategy.reducer.buckets]
        if strategy.rank != 0:
            return
    print(json.dumps(result))


def exposed_and_skew(step_log: list) -> tuple:
    """(seconds waited for the buckets, of which waiting for the slowest rank's backward to end) over the
    steps: a step's skew is the last rank's end of backward less this rank's, capped by what it waited."""
    from mpi4py import MPI

    every_rank = MPI.COMM_WORLD.allgather([end for end, _ in step_log])
    waited = skew = 0.0
    for step, (end, wait) in enumerate(step_log):
        waited += wait
        skew += min(max(max(ends[step] for ends in every_rank) - end, 0.0), wait)
    return waited, skew


def reduce_alone_ms(reducer, repeats: int = 50) -> float:
    """One step's buckets reduced back to back, blocking: the communication there is to hide."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    comm.Barrier()
    start = time.perf_counter()
    for _ in range(repeats):
        for bucket in reducer.buckets:
            comm.Allreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)
    return (time.perf_counter() - start) / repeats * 1e3


def run(ranks: int, args, overlap: str = "auto") -> dict:
    command = [sys.executable, __file__, "--worker", "--steps", str(args.steps), "--overlap", overlap]
    command += ["--batch-per-rank", str(args.batch_per_rank)]
    if ranks > 1:
        beside = Path(sys.executable).parent / "mpiexec"
        mpiexec = str(beside) if beside.exists() else shutil.which("mpiexec")
        if mpiexec is None:
            raise SystemExit("no mpiexec: pip install 'ranvier[distributed]'")
        command = [mpiexec, "-n", str(ranks)] + command
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--batch-per-rank", type=int, default=64)
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument(
        "--overlap",
        choices=("auto", "on", "off", "both"),
        default="both",
        help="DataParallel(overlap=...) of the ranks: both runs on and off (default)",
    )
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args.steps, args.batch_per_rank, args.overlap)
        return
    one = run(1, args)
    print(f"seed MNIST CNN, Adam, {args.batch_per_rank} samples per rank per step, 1 thread per rank")
    print(f"1 rank : {one['samples_per_second']:8.0f} samples/s  ({one['step_ms']:.2f} ms/step)")
    for overlap in ("on", "off") if args.overlap == "both" else (args.overlap,):
        report(one, run(args.ranks, args, overlap), overlap)


def report(one: dict, many: dict, overlap: str) -> None:
    print(
        f"\n{many['ranks']} ranks, overlap={overlap} ({'overlapped with' if many['overlap'] else 'after'} backward): "
        f"{many['samples_per_second']:8.0f} samples/s  ({many['step_ms']:.2f} ms/step)"
    )
    efficiency = many["samples_per_second"] / (many["ranks"] * one["samples_per_second"])
    print(f"scaling efficiency: {efficiency:.1%}")
    hidden = 1 - many["exposed_ms"] / many["reduce_alone_ms"] if many["reduce_alone_ms"] else 1.0
    print(
        f"gradient buckets {many['buckets_kb']} KB: {many['reduce_alone_ms']:.3f} ms/step to reduce alone, "
        f"{many['exposed_ms']:.3f} ms/step not hidden by backward "
        f"({many['exposed_ms'] / many['step_ms']:.1%} of the step; {max(hidden, 0):.0%} overlapped)"
    )
    print(
        f"rank 0 waited {many['waited_ms']:.3f} ms/step at the end of backward, of which "
        f"{many['skew_ms']:.3f} ms/step for the other rank to finish its backward (load imbalance, not communication)"
    )


if __name__ == "__main__":
    main()

"""``python -m ranvier bench``: ranvier against NumPy and PyTorch, side by side.

For each kernel family and shape of the performance targets, times ranvier,
the same math written plainly in NumPy, and PyTorch CPU (when installed) in
one run, with one thread count for all three, then prints a table and writes
bench.md, bench.json and bench.png to --out.
"""

from __future__ import annotations

import argparse
import os
import sys

import ranvier
from ranvier.bench import environment, gpu, inference, loop, networks, report, timing, training
from ranvier.bench.cases import BYTES, FLOPS, SYSTEMS, select


def _positive_int(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return n


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ranvier bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="fewer shapes and shorter timing")
    p.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        metavar="N",
        help="threads for ranvier, NumPy's OpenBLAS and PyTorch alike "
        "(default: ranvier's: OMP_NUM_THREADS, else every core)",
    )
    p.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="SUBSTR",
        help="only ops whose name (or family) contains SUBSTR; repeat for several",
    )
    p.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="SUBSTR",
        help="only shapes that contain SUBSTR (e.g. 64x784); repeat for several",
    )
    p.add_argument(
        "--loop",
        type=float,
        default=None,
        metavar="SECONDS",
        help="no table: call one system's version of each chosen case back to back for SECONDS, "
        "for a profiler (perf record -g -- python -m ranvier bench --loop 5 --filter lstm)",
    )
    p.add_argument("--system", choices=SYSTEMS, default="ranvier", help="the system --loop calls (default: ranvier)")
    p.add_argument(
        "--out", default="results", metavar="DIR", help="where bench.md, bench.json and bench.png go (default: results)"
    )
    p.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default="cpu",
        help="cuda: ranvier's CUDA kernels against CuPy and PyTorch CUDA",
    )
    p.add_argument(
        "--train",
        action="store_true",
        help="time training of the seed networks (MNIST and CIFAR CNNs, MLP, stacked LSTM, Transformer encoder) "
        "against the same networks in PyTorch eager; --filter picks networks by name",
    )
    p.add_argument("--budget", type=float, default=None, help=argparse.SUPPRESS)  # seconds per system and case
    return p


def main(argv=None) -> int:
    """The command: re-executes itself without OPENBLAS_CORETYPE when that is set, then runs."""
    argv = list(sys.argv[1:] if argv is None else argv)
    environment.reexec_without_coretype(argv)
    return run(argv)


def run(argv) -> int:
    """The benchmark in this process, with NumPy's BLAS as it was loaded; the kernels' thread count is
    put back afterwards (--threads changes it for the run only)."""
    threads = ranvier.get_num_threads()
    try:
        return _run(argv)
    finally:
        ranvier.set_num_threads(threads)


def _run(argv) -> int:
    args = parser().parse_args(argv)
    settings = timing.Settings.for_mode(args.quick, args.budget)
    if args.device == "cuda":
        if args.loop is not None:
            parser().error("--loop times the CPU kernels only")
        return gpu.run(args, settings)
    if args.train:
        if args.loop is not None:
            parser().error("--loop times the kernel cases only, not --train")
        settings = training.settings_for(args.quick, args.budget)
        cases = networks.select(args.filter)
    else:
        cases = select(args.quick, args.filter, args.shape)
    if not cases:
        print(f"no case matches --filter {' '.join(args.filter)} --shape {' '.join(args.shape)}")
        return 2

    threads = args.threads or ranvier.get_num_threads()
    ranvier.set_num_threads(threads)
    openblas = environment.OpenBLAS()
    openblas.set_num_threads(threads)
    torch = environment.import_torch()
    notes = []
    if torch is None:
        notes.append("PyTorch is not installed: the torch column is empty (pip install torch).")
        print(notes[-1])
    else:
        torch.set_num_threads(threads)
    ceilings = environment.measure_ceilings()
    env = environment.collect(torch, openblas, ceilings)
    notes.append(
        f"NumPy's OpenBLAS ran on core type {env['numpy_blas_core']} "
        f"(OPENBLAS_CORETYPE: {env['openblas_coretype_env']})."
    )
    if hasattr(os, "getloadavg") and os.getloadavg()[0] >= (os.cpu_count() or 1):
        notes.append(
            f"The machine was busy (load average {env['load_average']} on {os.cpu_count()} cores): timings are noisy."
        )
        print(notes[-1])
    print(
        f"ranvier {env['ranvier']} ({env['isa']}), numpy {env['numpy']} (OpenBLAS {env['numpy_blas_core']}), "
        f"torch {env['torch']}; {threads} threads on {env['cpu']}; load average {env['load_average']}"
    )
    notes.append(environment.describe_ceilings(ceilings, env["isa"], threads))
    print(notes[-1])

    if args.loop is not None:
        return loop.run(cases, args.system, args.loop, torch)

    if args.train:
        return _train(args, cases, settings, torch, env, ceilings, notes, threads)

    floors = {FLOPS: ceilings["peak_gflops"], BYTES: ceilings["stream_gbps"]}
    rows = []
    for i, case in enumerate(cases, 1):
        print(f"[{i}/{len(cases)}] {case.op} {case.shape}", file=sys.stderr, flush=True)
        fns = case.build(torch)
        rows.append(report.evaluate(case, timing.measure(fns, settings), SYSTEMS, floors))
        del fns
    print(report.table(rows, SYSTEMS))
    record = report.settings_record(
        device="cpu",
        quick=args.quick,
        budget_s=settings.budget,
        min_samples=settings.min_samples,
        rounds=settings.rounds,
        threads=threads,
        filters=args.filter,
        shapes=args.shape,
    )
    for message in report.write(args.out, rows, SYSTEMS, env, record, notes, environment.import_matplotlib_pyplot()):
        print(message)
    return 0


def _train(args, chosen, settings, torch, env, ceilings, notes, threads) -> int:
    rows = training.run(chosen, torch, settings, ceilings["peak_gflops"])
    print(training.table(rows))
    inference_rows, inference_notes = inference.run(chosen, torch, settings, threads)
    for note in inference_notes:
        print(note)
    notes += inference_notes
    if inference_rows:
        print(inference.table(inference_rows))
    record = report.settings_record(
        device="cpu",
        train=True,
        budget_s=settings.budget,
        rounds=settings.rounds,
        steps_per_call=training.STEPS_PER_CALL,
        threads=threads,
        filters=args.filter,
    )
    print(training.write(args.out, rows, env, record, notes, inference_rows))
    return 0

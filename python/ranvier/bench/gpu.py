"""``--device cuda``: ranvier's CUDA kernels against CuPy (cuBLAS) and PyTorch CUDA.

UNVERIFIED: written on a machine without a GPU and never run there. Each
call is timed with CUDA events on CuPy's current stream (ranvier's kernels
run on it; CuPy's default stream and PyTorch's are both the legacy default
stream, so the events also order PyTorch's work), after a warm-up. The cases
are the ops the CUDA module has: GEMM and linear+relu.
"""

from __future__ import annotations

import numpy as np

import ranvier
from ranvier import info, ops
from ranvier.bench import environment, report, timing
from ranvier.bench.cases.base import FLOPS, Case

SYSTEMS = ("ranvier", "cupy", "torch")
NEEDS = "the GPU benchmark needs a GPU and CuPy"


def _event_clock(cupy):
    def clock(fn, number: int) -> float:
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        for _ in range(number):
            fn()
        end.record()
        end.synchronize()
        return cupy.cuda.get_elapsed_time(start, end) / 1e3

    return clock


def _gemm(cupy, m: int, k: int, n: int) -> Case:
    def build(torch):
        rng = np.random.default_rng(0)
        a = cupy.asarray(rng.standard_normal((m, k), dtype=np.float32))
        b = cupy.asarray(rng.standard_normal((k, n), dtype=np.float32))
        fns = {"ranvier": lambda: ops.matmul(a, b), "cupy": lambda: a @ b}
        if torch is not None:
            ta, tb = torch.from_dlpack(a), torch.from_dlpack(b)
            fns["torch"] = lambda: ta @ tb
        return fns

    return Case("gemm", f"{m}x{k}x{n}", 2.0 * m * k * n, FLOPS, build, family="gemm")


def _linear(cupy, batch: int, n_in: int, n_out: int) -> Case:
    def build(torch):
        rng = np.random.default_rng(0)
        x, w, b, dy = (
            cupy.asarray(rng.standard_normal(s, dtype=np.float32))
            for s in ((batch, n_in), (n_in, n_out), (n_out,), (batch, n_out))
        )

        def ours():
            y = ops.linear(x, w, b, activation="relu")
            return ops.linear_backward(dy, x, w, activation="relu", y=y)

        def plain():
            y = cupy.maximum(x @ w + b, 0)
            g = dy * (y > 0)
            return g @ w.T, x.T @ g, g.sum(axis=0)

        fns = {"ranvier": ours, "cupy": plain}
        if torch is not None:
            F = torch.nn.functional
            tx, tw, tb = (torch.from_dlpack(a).clone().requires_grad_() for a in (x, w.T.copy(), b))
            tdy = torch.from_dlpack(dy)

            def theirs():
                return torch.autograd.grad(F.relu(F.linear(tx, tw, tb)), (tx, tw, tb), tdy)

            fns["torch"] = theirs
        return fns

    return Case(
        "linear+relu fwd+bwd", f"{batch}x{n_in}->{n_out}", 6.0 * batch * n_in * n_out, FLOPS, build, family="linear"
    )


def _cases(cupy, quick: bool):
    squares = (1024, 4096) if quick else (1024, 2048, 4096, 8192)
    return [_gemm(cupy, n, n, n) for n in squares] + [
        _linear(cupy, b, i, o) for b, i, o in ((256, 784, 128), (4096, 1024, 1024))
    ]


def unavailable_reason():
    """Why the GPU benchmark cannot run here, or None when it can."""
    if not ranvier.cuda.is_available():
        return f"{NEEDS}: ranvier.cuda.is_available() is False (no GPU, or ranvier built without CUDA)"
    try:
        import cupy  # noqa: F401
    except ImportError:
        return f"{NEEDS}: CuPy is not installed (pip install 'ranvier[gpu]')"
    return None


def run(args, settings: timing.Settings) -> int:
    reason = unavailable_reason()
    if reason is not None:
        print(reason)
        return 2
    import cupy

    torch = environment.import_torch()
    notes = ["GPU path: UNVERIFIED harness (written without a GPU)."]
    if torch is None or not torch.cuda.is_available():
        torch = None
        notes.append("PyTorch with CUDA is not installed: the torch column is empty.")
        print(notes[-1])
    env = {
        **info.collect(),
        "cupy": cupy.__version__,
        "torch": torch.__version__ if torch is not None else "not installed",
    }
    print(f"ranvier {env['ranvier']} on {env['cuda_device']}, CuPy {env['cupy']}, torch {env['torch']}")
    clock = _event_clock(cupy)
    rows = []
    for case in (c for c in _cases(cupy, args.quick) if c.matches(args.filter, args.shape)):
        fns = case.build(torch)
        rows.append(report.evaluate(case, timing.measure(fns, settings, clock), SYSTEMS, floors={}))
        del fns
    print(report.table(rows, SYSTEMS))
    record = report.settings_record(
        device="cuda", quick=args.quick, budget_s=settings.budget, filters=args.filter, shapes=args.shape
    )
    for message in report.write(args.out, rows, SYSTEMS, env, record, notes, environment.import_matplotlib_pyplot()):
        print(message)
    return 0

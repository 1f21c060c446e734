"""Inference against onnxruntime and PyTorch eager: the seed MNIST CNN's ``predict`` at batch 1, 64 and
1024, and the batch-1 dense product (1 x 1600 @ 1600 x 128) against NumPy's ``x @ w``.

    PYTHONPATH=python python benchmarks/predict_vs_onnxruntime.py [--rounds N]

`jit` is the same model compiled with ``jit_compile=True`` (predict replays the recorded forward pass).
onnxruntime runs the model ranvier exports (CPUExecutionProvider, intra_op_num_threads = ranvier's
threads); PyTorch the same network in NCHW under no_grad with the same thread count. The systems are
timed in interleaved rounds (each round times every system once), so that a busy host slows them alike;
the figure is the median over rounds of the mean time of one call. OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE are removed from the environment before NumPy loads, as ``python -m ranvier bench`` does.
"""

import os

for _name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_name, None)

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import ranvier  # noqa: E402
from ranvier import no_grad, ops  # noqa: E402
from ranvier.bench.networks import _mnist_cnn, _mnist_cnn_torch  # noqa: E402

BATCHES = (1, 64, 1024)


def mean_seconds(fn, budget: float) -> float:
    """Mean time of one call over at least `budget` seconds (and 3 calls)."""
    fn()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if calls >= 3 and elapsed >= budget:
            return elapsed / calls


def interleaved(systems: dict, rounds: int, budget: float) -> dict:
    times = {name: [] for name in systems}
    for _ in range(rounds):
        for name, fn in systems.items():
            times[name].append(mean_seconds(fn, budget))
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=0.2, help="seconds per system per round")
    args = parser.parse_args()

    import onnxruntime as ort
    import torch

    threads = ranvier.get_num_threads()
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    model = _mnist_cnn()
    model.predict(np.zeros((1, 28, 28, 1), np.float32), verbose=0)
    jit = _mnist_cnn()  # compiled with jit_compile=True: predict replays the recorded forward pass
    jit.compile(loss="sparse_categorical_crossentropy", jit_compile=True)
    jit.set_weights(model.get_weights())
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mnist_cnn.onnx")
        model.export(path, format="onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    net = torch.nn.Sequential(_mnist_cnn_torch(torch), torch.nn.Softmax(dim=1)).eval()

    print(f"threads {threads}, ISA {ranvier.get_isa()}, torch {torch.__version__}, onnxruntime {ort.__version__}")
    print("\nseed MNIST CNN inference, microseconds per call (ratio: onnxruntime's time / ranvier's, > 1 is faster)")
    print(
        f"{'batch':>6} {'predict':>10} {'jit':>10} {'model(x)':>10} {'onnxrt':>10} {'torch':>10} {'ort/predict':>12}"
        f" {'ort/jit':>8}"
    )
    for batch in BATCHES:
        x = rng.standard_normal((batch, 28, 28, 1), dtype=np.float32)
        x_nchw = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))

        def call(x=x):
            with no_grad():
                return model(x)

        def torch_eager(x_nchw=x_nchw):
            with torch.no_grad():
                return net(x_nchw)

        systems = {
            "predict": lambda x=x, batch=batch: model.predict(x, batch_size=batch, verbose=0),
            "jit": lambda x=x, batch=batch: jit.predict(x, batch_size=batch, verbose=0),
            "model(x)": call,
            "onnxrt": lambda x=x: session.run(None, {input_name: x}),
            "torch": torch_eager,
        }
        t = interleaved(systems, args.rounds, args.budget)
        us = {k: v * 1e6 for k, v in t.items()}
        print(
            f"{batch:>6} {us['predict']:>10.1f} {us['jit']:>10.1f} {us['model(x)']:>10.1f} {us['onnxrt']:>10.1f}"
            f" {us['torch']:>10.1f} {t['onnxrt'] / t['predict']:>12.2f} {t['onnxrt'] / t['jit']:>8.2f}"
        )

    x1 = rng.standard_normal((1, 1600), dtype=np.float32)
    w = rng.standard_normal((1600, 128), dtype=np.float32)
    t = interleaved({"ops.linear": lambda: ops.linear(x1, w), "numpy x @ w": lambda: x1 @ w}, args.rounds, args.budget)
    print("\n1 x 1600 @ 1600 x 128, microseconds per call")
    for name, seconds in t.items():
        print(f"{name:>12} {seconds * 1e6:8.1f}")


if __name__ == "__main__":
    main()

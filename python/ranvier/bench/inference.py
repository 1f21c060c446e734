"""``bench --train``'s inference table: ``model.predict`` of the seed MNIST CNN at batch 1, 64 and 1024
against onnxruntime and PyTorch eager, turns interleaved.

ranvier runs ``predict`` eager and compiled with ``jit_compile=True`` (the forward pass replayed);
onnxruntime (optional: ``pip install onnxruntime onnx``) the same model as ranvier exports it to ONNX,
CPU execution provider with ranvier's thread count; PyTorch the same network in NCHW under no_grad.
"""

from __future__ import annotations

import os
import sys
import tempfile

import numpy as np

from ranvier.bench import networks, report, timing

BATCHES = (1, 64, 1024)
SYSTEMS = ("ranvier", "ranvier jit", "onnxruntime", "torch")
NETWORK = "MNIST CNN"  # the network deployers' table is about (the issue's figures)


def _import_onnxruntime():
    try:
        import onnx  # noqa: F401  (the exporter needs it)
        import onnxruntime
    except ImportError:
        return None
    return onnxruntime


def _onnx_session(ort, model, threads: int):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.onnx")
        model.export(path, format="onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def _systems(network, torch, ort, threads: int) -> dict:
    """System name -> (batch array -> one predict call), over one set of weights."""
    model = network.build_ranvier()
    model.compile(loss="sparse_categorical_crossentropy")
    jit = network.build_ranvier()
    jit.compile(loss="sparse_categorical_crossentropy", jit_compile=True)
    jit.set_weights(model.get_weights())
    calls = {
        "ranvier": lambda x: model.predict(x, batch_size=len(x), verbose=0),
        "ranvier jit": lambda x: jit.predict(x, batch_size=len(x), verbose=0),
    }
    if ort is not None:
        session = _onnx_session(ort, model, threads)
        name = session.get_inputs()[0].name
        calls["onnxruntime"] = lambda x: session.run(None, {name: x})
    if torch is not None:
        net = torch.nn.Sequential(network.build_torch(torch), torch.nn.Softmax(dim=1)).eval()

        def torch_call(x):
            with torch.no_grad():
                return net(networks.torch_input(torch, network, x))

        calls["torch"] = torch_call
    return calls


def run(chosen, torch, settings: timing.Settings, threads: int) -> tuple:
    """(rows, notes): one row per batch size, when the MNIST CNN is among the chosen networks."""
    network = next((n for n in chosen if n.name == NETWORK), None)
    if network is None:
        return [], []
    ort = _import_onnxruntime()
    notes = (
        [] if ort is not None else ["onnxruntime is not installed: its column is empty (pip install onnxruntime onnx)."]
    )
    calls = _systems(network, torch, ort, threads)
    rng = np.random.default_rng(1)
    rows = []
    for batch in BATCHES:
        print(f"[inference] {network.name} batch {batch}", file=sys.stderr, flush=True)
        x = network.data(rng, batch)[0]
        timings = timing.measure({name: (lambda call=call, x=x: call(x)) for name, call in calls.items()}, settings)
        rate = {s: batch / timings[s].median if s in timings else None for s in SYSTEMS}
        ort_rate = rate["onnxruntime"]
        rows.append(
            {
                "network": network.name,
                "batch": batch,
                "images_per_s": rate,
                "vs_onnxruntime": {s: rate[s] / ort_rate if ort_rate else None for s in ("ranvier", "ranvier jit")},
            }
        )
    return rows, notes


COLUMNS = ["network", "batch", *(f"{s} images/s" for s in SYSTEMS), "ranvier / ort", "jit / ort"]


def _cells(row) -> list:
    rate, ratio = row["images_per_s"], row["vs_onnxruntime"]
    return [
        row["network"],
        str(row["batch"]),
        *(report.NOT_RUN if rate[s] is None else f"{rate[s]:,.0f}" for s in SYSTEMS),
        *(report.NOT_RUN if ratio[s] is None else f"{ratio[s]:.2f}x" for s in ("ranvier", "ranvier jit")),
    ]


def table(rows) -> str:
    return report.fixed_width(COLUMNS, [_cells(r) for r in rows])


def markdown(rows) -> str:
    """The table as a section of bench.md."""
    lines = ["", "## Inference (predict)", "", *report.markdown_table(COLUMNS, [_cells(r) for r in rows], 1)]
    legend = (
        "Images/s of one `predict` call per batch size (the median of timed calls); `jit`: compiled with "
        "`jit_compile=True`. onnxruntime runs ranvier's ONNX export; `/ ort`: the ratio to onnxruntime's "
        "images/s (> 1 is faster)."
    )
    return "\n".join(lines + ["", legend, ""])

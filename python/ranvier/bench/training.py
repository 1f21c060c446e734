"""``python -m ranvier bench --train``: training of whole networks, ranvier
against the same network in PyTorch eager, turns interleaved.

One timed call trains STEPS_PER_CALL batches: ranvier through ``model.fit``
(what a user calls, its per-batch cost included), PyTorch through the usual
loop (zero_grad, forward, cross-entropy on logits, backward, step, loss.item()).
The share of the ceiling is the model's training FLOPs per sample
(networks.py) times samples/s over the FMA peak measured at the start.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from ranvier.bench import inference, networks, report, timing

STEPS_PER_CALL = 8
SYSTEMS = ("ranvier", "ranvier jit", "torch")  # "ranvier jit": compile(jit_compile=True), steps replayed
BUDGET = 2.0  # seconds of timed training per system and network (--quick: QUICK_BUDGET)
QUICK_BUDGET = 0.5


def settings_for(quick: bool, budget) -> timing.Settings:
    default = timing.Settings.for_mode(quick)
    seconds = budget if budget is not None else QUICK_BUDGET if quick else BUDGET
    return timing.Settings(seconds, default.min_samples, default.rounds)


def _ranvier_call(network: networks.Network, x, y, jit_compile: bool = False):
    model = network.build_ranvier()
    model.compile(
        optimizer=networks.optimizer_for(network), loss="sparse_categorical_crossentropy", jit_compile=jit_compile
    )
    return lambda: model.fit(x, y, batch_size=network.batch, epochs=1, verbose=0, shuffle=False)


def _torch_call(torch, network: networks.Network, x, y):
    model = network.build_torch(torch)
    model.train()
    optimizer = networks.optimizer_for(network, model.parameters(), torch)
    tx, ty = networks.torch_input(torch, network, x), torch.from_numpy(y)
    batches = [(tx[i : i + network.batch], ty[i : i + network.batch]) for i in range(0, len(y), network.batch)]

    def train():
        for xb, yb in batches:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            loss.item()

    return train


def evaluate(network: networks.Network, timings: dict, peak_gflops: float) -> dict:
    samples = network.batch * STEPS_PER_CALL
    rate = {s: samples / timings[s].median if s in timings else None for s in SYSTEMS}
    share = {s: None if r is None else network.flops_per_sample * r / (peak_gflops * 1e9) for s, r in rate.items()}
    return {
        "network": network.name,
        "batch": network.batch,
        "optimizer": network.optimizer,
        "flops_per_sample": network.flops_per_sample,
        "times": {s: timings[s].as_dict() if s in timings else None for s in SYSTEMS},
        "samples_per_s": rate,
        "ratio": rate["ranvier"] / rate["torch"] if rate["torch"] else None,
        "jit_ratio": rate["ranvier jit"] / rate["torch"] if rate["torch"] and rate["ranvier jit"] else None,
        "peak_share": share,
    }


COLUMNS = [
    "network",
    "batch, optimizer",
    "MFLOP/sample",
    "ranvier samples/s",
    "jit samples/s",
    "torch samples/s",
    "ratio",
    "jit ratio",
    "ranvier % peak",
    "jit % peak",
    "torch % peak",
]


def _cells(row) -> list:
    def number(x, fmt):
        return report.NOT_RUN if x is None else format(x, fmt)

    rate, share = row["samples_per_s"], row["peak_share"]
    return [
        row["network"],
        f"{row['batch']}, {row['optimizer']}",
        f"{row['flops_per_sample'] / 1e6:.2f}",
        number(rate["ranvier"], ",.0f"),
        number(rate["ranvier jit"], ",.0f"),
        number(rate["torch"], ",.0f"),
        report.NOT_RUN if row["ratio"] is None else f"{row['ratio']:.2f}x",
        report.NOT_RUN if row.get("jit_ratio") is None else f"{row['jit_ratio']:.2f}x",
        number(share["ranvier"], ".0%"),
        number(share["ranvier jit"], ".0%"),
        number(share["torch"], ".0%"),
    ]


def table(rows) -> str:
    return report.fixed_width(COLUMNS, [_cells(r) for r in rows])


def markdown(rows, environment: dict, settings: dict, notes) -> str:
    legend = (
        f"Samples/s: the median of timed calls of {STEPS_PER_CALL} training steps each. `jit`: the same model "
        "compiled with `jit_compile=True` (its steps replayed from C++ once checked; eager where it cannot "
        "replay). `ratio`: ranvier's samples/s over PyTorch's. `% peak`: training FLOPs per sample (3x the "
        "forward multiply-adds' FLOPs, less the first layer's input gradient) x samples/s over the FMA peak "
        "measured at the start. "
        "`-`: not run."
    )
    body = [_cells(r) for r in rows]
    return report.markdown_page("ranvier training benchmark", COLUMNS, body, legend, environment, settings, notes)


def run(chosen, torch, settings: timing.Settings, peak_gflops: float) -> list:
    """The rows of the chosen networks, each timed in turns with its PyTorch twin."""
    rng = np.random.default_rng(0)
    rows = []
    for i, network in enumerate(chosen, 1):
        print(f"[{i}/{len(chosen)}] {network.name}", file=sys.stderr, flush=True)
        x, y = network.data(rng, network.batch * STEPS_PER_CALL)
        fns = {"ranvier": _ranvier_call(network, x, y), "ranvier jit": _ranvier_call(network, x, y, jit_compile=True)}
        if torch is not None:
            torch.manual_seed(0)
            fns["torch"] = _torch_call(torch, network, x, y)
        rows.append(evaluate(network, timing.measure(fns, settings), peak_gflops))
        del fns
    return rows


def write(out_dir: str, rows, environment: dict, settings: dict, notes, inference_rows=()) -> str:
    """bench.md and bench.json in out_dir (the inference table after the training one); returns the
    message for the user."""
    os.makedirs(out_dir, exist_ok=True)
    md, js = os.path.join(out_dir, "bench.md"), os.path.join(out_dir, "bench.json")
    with open(md, "w") as f:
        f.write(markdown(rows, environment, settings, notes))
        if inference_rows:
            f.write(inference.markdown(inference_rows))
    with open(js, "w") as f:
        record = {"settings": settings, "environment": environment, "systems": list(SYSTEMS), "networks": rows}
        json.dump({**record, "inference": list(inference_rows)}, f, indent=1)
    return f"wrote {md}, {js}"

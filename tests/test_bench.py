"""`python -m ranvier bench`: the harness end to end on one tiny, briefly timed case."""

import json
import sys
import time

import numpy as np
import pytest

import ranvier
from ranvier import bench

TINY = ["--quick", "--filter", "softmax_ce", "--budget", "0.002"]


def _run(tmp_path, capsys, *extra):
    assert bench.run([*TINY, "--out", str(tmp_path), *extra]) == 0
    return capsys.readouterr().out


def test_table_json_markdown(tmp_path, capsys):
    out = _run(tmp_path, capsys, "--threads", "1")
    for column in (
        "op",
        "shape",
        "ranvier time",
        "numpy time",
        "torch time",
        "ranvier rate",
        "% peak/BW",
        "vs numpy",
        "vs torch",
        "target",
        "met",
    ):
        assert column in out
    assert "softmax_ce fwd+bwd" in out and "64x10" in out
    result = json.loads((tmp_path / "bench.json").read_text())
    env = result["environment"]
    for key in ("cpu", "isa", "threads", "numpy", "torch", "ranvier", "numpy_blas_core", "stream_gbps"):
        assert key in env
    assert env["threads"] == 1 and result["settings"]["threads"] == 1
    assert [r["shape"] for r in result["rows"]] == ["1024x1000", "64x10"]
    row = result["rows"][1]
    assert row["times"]["ranvier"]["median_s"] > 0 and row["times"]["numpy"]["median_s"] > 0
    assert row["speedup"]["numpy"] > 0 and row["targets"][0]["target"] == ">=1.5x torch"
    markdown = (tmp_path / "bench.md").read_text()
    assert "| softmax_ce fwd+bwd | 64x10 |" in markdown and "## Environment" in markdown
    assert (tmp_path / "bench.png").exists() or "skipped bench.png" in out


def test_without_torch(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    out = _run(tmp_path, capsys)
    assert "PyTorch is not installed" in out
    result = json.loads((tmp_path / "bench.json").read_text())
    assert result["environment"]["torch"] == "not installed"
    row = result["rows"][0]
    assert row["times"]["torch"] is None and row["speedup"]["torch"] is None and row["met"] is None
    assert row["times"]["ranvier"]["median_s"] > 0


def test_no_match_and_no_gpu(tmp_path, capsys):
    assert bench.run(["--filter", "no-such-op", "--out", str(tmp_path)]) == 2
    if not ranvier.cuda.is_available():
        assert bench.run(["--device", "cuda", "--out", str(tmp_path)]) == 2
        assert "needs a GPU and CuPy" in capsys.readouterr().out


def test_shape_filter(tmp_path, capsys):
    _run(tmp_path, capsys, "--shape", "64x10")
    result = json.loads((tmp_path / "bench.json").read_text())
    assert [r["shape"] for r in result["rows"]] == ["64x10"] and result["settings"]["shapes"] == ["64x10"]
    assert bench.run([*TINY, "--shape", "no-such-shape", "--out", str(tmp_path)]) == 2


def test_loop_calls_one_system_and_writes_no_table(tmp_path, capsys, monkeypatch):
    from ranvier.bench import loop

    calls = []
    real_call_for = loop.call_for
    monkeypatch.setattr(loop, "call_for", lambda seconds, fn: calls.append(seconds) or real_call_for(seconds, fn))
    assert (
        bench.run(
            [
                "--filter",
                "softmax_ce",
                "--shape",
                "64x10",
                "--loop",
                "0.01",
                "--system",
                "numpy",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "softmax_ce fwd+bwd 64x10 [numpy]:" in out and " calls, median " in out
    assert calls == [0.01] and not (tmp_path / "bench.json").exists()
    # A system without a version of the op (NumPy has no LSTM) is skipped; none left: 2.
    assert bench.run(["--filter", "lstm", "--loop", "0.01", "--system", "numpy"]) == 2
    assert "numpy has no version of this op" in capsys.readouterr().out


def test_call_for_calls_at_least_once_and_until_the_time_is_up():
    from ranvier.bench import loop

    count = []
    assert len(loop.call_for(0.0, lambda: count.append(1))) == 1 and len(count) == 1
    times = loop.call_for(0.02, lambda: count.append(1))
    assert len(times) == len(count) - 1 and sum(times) <= 0.02 + max(times) + 0.01


def test_help_lists_options(capsys):
    with pytest.raises(SystemExit):
        bench.run(["--help"])
    out = capsys.readouterr().out
    assert "--quick" in out and "--filter" in out and "--loop" in out and "--budget" not in out


def test_systems_take_turns_and_meet_budget_and_sample_count():
    """Each system is sampled in every turn (a slow spell of the host then falls on all of
    them), ends with at least min_samples samples and its budget of timed calls, and the
    median and best come from its own samples."""
    from ranvier.bench import timing

    sampled = []  # names of sample calls (warm-up calls run the function once)
    seconds = {"a": 1e-4, "b": 2e-4}

    def fake_clock(fn, number):
        name = fn()
        if number > 1:
            sampled.append(name)
        return seconds[name] * number

    settings = timing.Settings(budget=0.03, min_samples=6, rounds=3)
    result = timing.measure({"a": lambda: "a", "b": lambda: "b"}, settings, clock=fake_clock)
    turns = [name for i, name in enumerate(sampled) if i == 0 or sampled[i - 1] != name]
    assert turns == ["a", "b"] * 3
    for name, t in result.items():
        assert t.calls_per_sample > 1 and t.samples >= 6
        assert t.samples * t.calls_per_sample * seconds[name] >= settings.budget - 1e-12
        assert t.median == pytest.approx(seconds[name]) and t.best == pytest.approx(seconds[name])
    assert timing.Settings.for_mode(quick=False).rounds > 1


def test_ceilings_are_measured_quickly_and_plausibly():
    from ranvier import _cpu

    start = time.perf_counter()
    peak = _cpu.measure_fma_peak(0.02)
    bandwidth = _cpu.measure_triad_bandwidth(0.01)
    assert time.perf_counter() - start < 5  # generous: a shared host; about 0.1 s alone
    assert 0.1 < peak < 1e6 and 0.1 < bandwidth < 1e5


def test_floors_are_the_measured_ceilings(tmp_path, capsys, monkeypatch):
    from ranvier.bench import environment

    monkeypatch.setattr(environment, "measure_ceilings", lambda: {"peak_gflops": 1e-6, "stream_gbps": 1e-6})
    out = _run(tmp_path, capsys)
    assert "fp32 FMA peak 0 GFLOP/s, STREAM triad 0.0 GB/s" in out
    result = json.loads((tmp_path / "bench.json").read_text())
    assert result["environment"]["peak_gflops"] == 0 and result["environment"]["stream_gbps"] == 0
    for row in result["rows"]:
        assert row["floor_fraction"] == pytest.approx(row["rates"]["ranvier"] / 1e-6)


TRAIN = ["--train", "--budget", "0.001", "--filter", "MLP", "--filter", "LSTM"]


def test_train_table_and_files(tmp_path, capsys, monkeypatch):
    from ranvier.bench import environment

    monkeypatch.setattr(environment, "measure_ceilings", lambda: {"peak_gflops": 100.0, "stream_gbps": 10.0})
    assert bench.run([*TRAIN, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for column in ("network", "ranvier samples/s", "jit samples/s", "torch samples/s", "jit ratio", "ranvier % peak"):
        assert column in out
    assert "MLP 784-128-10" in out and "stacked LSTM 64-64 T32" in out and "CIFAR" not in out
    result = json.loads((tmp_path / "bench.json").read_text())
    assert result["settings"]["train"] is True
    mlp = result["networks"][0]
    assert mlp["flops_per_sample"] == 2 * (3 * (784 * 128 + 1280) - 784 * 128)
    rate = mlp["samples_per_s"]["ranvier"]
    assert rate > 0 and mlp["peak_share"]["ranvier"] == pytest.approx(mlp["flops_per_sample"] * rate / 100e9)
    assert mlp["samples_per_s"]["ranvier jit"] > 0
    if mlp["samples_per_s"]["torch"] is not None:
        assert mlp["ratio"] == pytest.approx(rate / mlp["samples_per_s"]["torch"])
        assert mlp["jit_ratio"] == pytest.approx(mlp["samples_per_s"]["ranvier jit"] / mlp["samples_per_s"]["torch"])
    assert "| MLP 784-128-10 | 32, adam |" in (tmp_path / "bench.md").read_text()
    assert result["inference"] == []  # the inference table is the MNIST CNN's, not chosen here


def test_train_without_torch(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    assert bench.run(["--train", "--budget", "0.001", "--filter", "MLP", "--out", str(tmp_path)]) == 0
    assert "PyTorch is not installed" in capsys.readouterr().out
    row = json.loads((tmp_path / "bench.json").read_text())["networks"][0]
    assert row["samples_per_s"]["torch"] is None and row["ratio"] is None and row["samples_per_s"]["ranvier"] > 0


def test_every_seed_network_builds_and_matches_its_torch_twin():
    from ranvier.bench import environment, networks

    torch = environment.import_torch()
    for network in networks.NETWORKS:
        model = network.build_ranvier()
        x, _ = network.data(np.random.default_rng(0), 2)
        assert model.predict(x, verbose=0).shape == (2, network.classes)
        if torch is not None:
            twin = network.build_torch(torch)
            ours = sum(w.data.size for w in model.trainable_weights)
            # PyTorch's LSTM has a second bias (bias_hh) that adds to the first: same math
            theirs = sum(p.numel() for name, p in twin.named_parameters() if "bias_hh" not in name)
            assert ours == theirs, network.name
            assert twin(networks.torch_input(torch, network, x)).shape == (2, network.classes)


def test_train_inference_table_against_onnxruntime(tmp_path, capsys):
    """The MNIST CNN chosen: predict at batch 1, 64 and 1024, eager and jit, beside onnxruntime and torch."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    assert bench.run(["--train", "--budget", "0.001", "--filter", "MNIST", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "onnxruntime images/s" in out and "jit / ort" in out
    rows = json.loads((tmp_path / "bench.json").read_text())["inference"]
    assert [r["batch"] for r in rows] == [1, 64, 1024]
    for row in rows:
        rate = row["images_per_s"]
        assert rate["ranvier"] > 0 and rate["ranvier jit"] > 0 and rate["onnxruntime"] > 0
        assert row["vs_onnxruntime"]["ranvier jit"] == pytest.approx(rate["ranvier jit"] / rate["onnxruntime"])
    assert "## Inference (predict)" in (tmp_path / "bench.md").read_text()


def test_train_inference_without_onnxruntime(monkeypatch):
    from ranvier.bench import inference, networks, timing

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    rows, notes = inference.run(networks.select(["MNIST"]), None, timing.Settings(0.001, 1, 1), 1)
    assert notes == ["onnxruntime is not installed: its column is empty (pip install onnxruntime onnx)."]
    assert [r["batch"] for r in rows] == [1, 64, 1024]
    assert all(r["images_per_s"]["onnxruntime"] is None and r["images_per_s"]["ranvier"] > 0 for r in rows)
    assert all(r["vs_onnxruntime"]["ranvier jit"] is None for r in rows)


def test_a_run_puts_the_thread_count_back(tmp_path):
    """--threads is for the run: a test (or a notebook) calling bench.run keeps its own thread count."""
    import ranvier

    before = ranvier.get_num_threads()
    ranvier.set_num_threads(2)
    try:
        assert (
            bench.run(["--train", "--budget", "0.001", "--filter", "MLP", "--threads", "1", "--out", str(tmp_path)])
            == 0
        )
        assert ranvier.get_num_threads() == 2
    finally:
        ranvier.set_num_threads(before)

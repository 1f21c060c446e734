"""`python -m ranvier bench`: the harness end to end on one tiny, briefly timed case."""
import json
import sys

import pytest

import ranvier
from ranvier import bench

TINY = ["--quick", "--filter", "softmax_ce", "--budget", "0.002"]


def _run(tmp_path, capsys, *extra):
    assert bench.run([*TINY, "--out", str(tmp_path), *extra]) == 0
    return capsys.readouterr().out


def test_table_json_markdown(tmp_path, capsys):
    out = _run(tmp_path, capsys, "--threads", "1")
    for column in ("op", "shape", "ranvier time", "numpy time", "torch time", "ranvier rate", "% peak/BW",
                   "vs numpy", "vs torch", "target", "met"):
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


def test_help_lists_options(capsys):
    with pytest.raises(SystemExit):
        bench.run(["--help"])
    out = capsys.readouterr().out
    assert "--quick" in out and "--filter" in out and "--budget" not in out

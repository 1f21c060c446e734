"""Every example runs offline in a quick mode and prints the result it promises."""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name, *args):
    sys.path.insert(0, str(EXAMPLES))  # the examples share examples/_data.py
    try:
        return runpy.run_path(str(EXAMPLES / name))["main"](list(args))
    finally:
        sys.path.remove(str(EXAMPLES))


def test_ops_backend_mlp(capsys):
    assert run_example("ops_backend_mlp.py", "--steps", "200") > 0.95
    assert "accuracy" in capsys.readouterr().out


def test_xor_mlp_gets_all_four_points(capsys):
    assert run_example("xor_mlp.py") == 1.0
    assert "accuracy: 100%" in capsys.readouterr().out


@pytest.mark.parametrize(
    "name,args,minimum",
    [
        ("mnist_cnn.py", ["--epochs", "3", "--limit", "800"], 0.75),
        ("cifar10_cnn.py", ["--epochs", "2", "--samples", "600"], 0.5),
        ("lstm_classifier.py", ["--epochs", "3", "--samples", "400"], 0.8),
        ("gru_text_classifier.py", ["--epochs", "6"], 0.9),
        ("pytorch_style_loop.py", ["--epochs", "3"], 0.8),
        ("transformer_encoder.py", ["--epochs", "3", "--samples", "800"], 0.8),
    ],
)
def test_classifiers_learn(capsys, name, args, minimum):
    accuracy = run_example(name, *args)
    out = capsys.readouterr().out
    assert f"test accuracy: {accuracy:.4f}" in out
    assert accuracy >= minimum, out


def test_dense_classifiers(capsys):
    binary, ten = run_example("dense_classifiers.py", "--epochs", "10")
    assert binary > 0.95 and ten > 0.85
    out = capsys.readouterr().out
    assert "binary (is it a 0?) test accuracy" in out and "10-class test accuracy" in out


def test_cpu_vs_gpu_table(capsys):
    rates = run_example("cpu_vs_gpu.py", "--steps", "2", "--batch-size", "16")
    out = capsys.readouterr().out
    assert rates["cpu"] > 0 and "samples/s" in out and out.count("\n") >= 2


def test_export_onnx_runs_in_onnxruntime(capsys):
    pytest.importorskip("onnxruntime")
    accuracy = run_example("export_onnx.py", "--epochs", "3", "--limit", "800")
    out = capsys.readouterr().out
    difference = float(out.split("max difference ")[1].split()[0])
    assert difference < 1e-5 and accuracy > 0.75, out


def test_torch_weights_in_ranvier(capsys):
    pytest.importorskip("torch")
    agreement, max_difference = run_example("torch_weights_in_ranvier.py", "--epochs", "2")
    assert agreement == 1.0 and max_difference < 1e-4
    out = capsys.readouterr().out
    assert "ranvier test accuracy" in out and "same predictions: 100.00%" in out


def test_functional_two_inputs(capsys):
    accuracy, mse = run_example("functional_two_inputs.py", "--epochs", "8", "--samples", "1500")
    out = capsys.readouterr().out
    assert f"test kind accuracy: {accuracy:.4f}" in out and "Connected to" in out
    assert accuracy > 0.85 and mse < 0.5, out


def test_generator_pipeline_learns_from_every_source(capsys):
    results = run_example("generator_pipeline.py")  # a few seconds
    out = capsys.readouterr().out
    assert set(results) == {"generator", "ranvier.data pipeline", "PyDataset, 2 workers"}
    for name, accuracy in results.items():
        assert f"{name}: test accuracy {accuracy:.4f}" in out
        assert accuracy > 0.9, out
    assert "val_loss" in out  # the Dataset validation ran at the last epoch

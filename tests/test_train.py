"""The main job: `python -m ranvier train`."""

import subprocess
import sys

import numpy as np
import pytest

import ranvier
from ranvier import datasets, train


def test_digits_ships_with_the_package_and_splits_fixed():
    (x_train, y_train), (x_test, y_test) = datasets.digits.load_data()
    assert x_train.shape == (1438, 8, 8) and x_test.shape == (359, 8, 8)
    assert x_train.dtype == np.uint8 and x_train.max() == 255 and y_train.dtype == np.uint8
    assert set(np.unique(y_test)) == set(range(10))
    (again, _), _ = datasets.digits.load_data()
    np.testing.assert_array_equal(again, x_train)


def test_default_job_reaches_97_percent(capsys):
    result = train.main(["--verbose", "2"])
    out = capsys.readouterr().out
    assert result["test_accuracy"] >= 0.97, out
    assert "Epoch 20/20" in out and "test accuracy:" in out and "samples/s" in out and "training time:" in out


@pytest.mark.parametrize("model", ["mlp", "lstm", "transformer"])
def test_every_model_kind_trains(model, tmp_path):
    path = tmp_path / f"{model}.safetensors"
    result = train.main(["--model", model, "--epochs", "1", "--verbose", "0", "--save", str(path)])
    assert result["test_accuracy"] > 0.3  # one epoch: clearly better than chance (0.1)
    loaded = ranvier.load_model(path)
    assert loaded.predict(np.zeros((2, 8, 8, 1), np.float32)).shape == (2, 10)


def test_cli_entry_and_errors():
    out = subprocess.run([sys.executable, "-m", "ranvier", "train", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--dataset" in out.stdout and "--device" in out.stdout
    if not ranvier.cuda.is_available():
        bad = subprocess.run(
            [sys.executable, "-m", "ranvier", "train", "--device", "cuda"], capture_output=True, text=True
        )
        assert bad.returncode != 0 and "no GPU is available" in bad.stderr

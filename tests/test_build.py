"""The build switches: RANVIER_CUDA=AUTO|ON|OFF (CMake configure only, a few seconds each)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pybind11 = pytest.importorskip("pybind11")


def configure(tmp_path, value, hide_nvcc):
    cmake = shutil.which("cmake")
    if cmake is None or not (ROOT / "CMakeLists.txt").exists():
        pytest.skip("needs cmake and the source tree")
    env = dict(os.environ)
    env.pop("RANVIER_CUDA", None)
    env.pop("CUDACXX", None)
    if hide_nvcc:
        nvcc = shutil.which("nvcc")
        keep = [p for p in env.get("PATH", "").split(os.pathsep) if not (nvcc and Path(p) == Path(nvcc).parent)]
        env["PATH"] = os.pathsep.join(keep)
        if shutil.which("nvcc", path=env["PATH"]):
            pytest.skip("cannot hide nvcc on this machine")
    return subprocess.run(
        [
            cmake,
            "-S",
            str(ROOT),
            "-B",
            str(tmp_path / "build"),
            f"-DRANVIER_CUDA={value}",
            f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
        ],
        capture_output=True,
        text=True,
        env=env,
    )


def test_cuda_on_without_nvcc_fails_clearly(tmp_path):
    result = configure(tmp_path, "ON", hide_nvcc=True)
    assert result.returncode != 0
    assert "RANVIER_CUDA=ON but no CUDA compiler (nvcc) was found" in result.stderr


def test_auto_without_nvcc_builds_the_cpu_module_alone(tmp_path):
    result = configure(tmp_path, "AUTO", hide_nvcc=True)
    assert result.returncode == 0, result.stderr
    assert "building the CPU module only" in result.stdout


def test_off_skips_cuda_and_bad_values_are_refused(tmp_path):
    off = configure(tmp_path, "OFF", hide_nvcc=False)
    assert off.returncode == 0, off.stderr
    assert "building the CUDA module" not in off.stdout
    bad = configure(tmp_path / "bad", "MAYBE", hide_nvcc=False)
    assert bad.returncode != 0 and "RANVIER_CUDA must be AUTO, ON or OFF" in bad.stderr

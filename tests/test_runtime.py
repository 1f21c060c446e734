"""Threads, instruction-set selection, the info command and array interop."""

import os
import subprocess
import sys

import numpy as np
import pytest

import ranvier
from ranvier import ops


def run_python(code, **env):
    full_env = {**os.environ, **env}
    for key, value in env.items():
        if value is None:
            full_env.pop(key)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, check=True).stdout


def test_set_num_threads_round_trips_and_rejects_nonsense():
    before = ranvier.get_num_threads()
    try:
        ranvier.set_num_threads(1)
        assert ranvier.get_num_threads() == 1
        ranvier.set_num_threads(3)
        assert ranvier.get_num_threads() == 3
    finally:
        ranvier.set_num_threads(before)
    for bad in (0, -2, 1.5, "2", True):
        with pytest.raises(ValueError, match=r"\[set_num_threads\]"):
            ranvier.set_num_threads(bad)


def test_omp_num_threads_is_the_default():
    out = run_python("import ranvier; print(ranvier.get_num_threads())", OMP_NUM_THREADS="3")
    assert out.strip() == "3"


def test_results_do_not_depend_on_thread_count():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((300, 700), dtype=np.float32), rng.standard_normal((700, 500), dtype=np.float32)
    bias = rng.standard_normal(500, dtype=np.float32)
    before = ranvier.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 5):
            ranvier.set_num_threads(threads)
            results.append(ops.linear(a, b, bias, "gelu"))
    finally:
        ranvier.set_num_threads(before)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_gemm_items_claimed_one_by_one_between_other_jobs():
    """A threaded GEMM's items are claimed one at a time (more chunks than threads), between jobs
    of fewer chunks: every product must come out the same, and no call may wait forever (hence the
    subprocess and its timeout). The pool keeps each job's chunk count in the word the chunks are
    claimed from, so a worker late from one job cannot claim a chunk of the next."""
    code = """
import numpy as np, ranvier
from ranvier import ops
ranvier.set_num_threads(2)  # a 600-row product is then 4 items on 2 threads
rng = np.random.default_rng(0)
a, b = rng.standard_normal((600, 300), dtype=np.float32), rng.standard_normal((300, 500), dtype=np.float32)
x = rng.standard_normal(70000, dtype=np.float32)
want, want_relu = ops.matmul(a, b), ops.relu(x)
for i in range(300):
    assert np.array_equal(ops.matmul(a, b), want), i
    assert np.array_equal(ops.relu(x[: 40000 + 15000 * (i % 3)]), want_relu[: 40000 + 15000 * (i % 3)])
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_isa_env_var_forces_a_path():
    out = run_python("import ranvier; print(ranvier.get_isa())", RANVIER_ISA="generic")
    assert out.strip() == "generic"


def test_set_isa_rejects_unknown_names():
    with pytest.raises(ValueError, match=r"\[set_isa\] isa must be one of generic, avx2, avx512"):
        ranvier.set_isa("sse9")


def test_info_command_prints_every_line():
    out = subprocess.run([sys.executable, "-m", "ranvier", "info"], capture_output=True, text=True, check=True).stdout
    keys = [line.split()[0] for line in out.splitlines()]
    for key in ("ranvier", "compiler", "isa", "threads", "cuda_built", "cuda_available", "cuda_device"):
        assert key in keys, out
    assert f"isa             {ranvier.get_isa()}" in out or ranvier.get_isa() in out


def test_cuda_status_is_consistent():
    assert isinstance(ranvier.cuda.is_built(), bool)
    if not ranvier.cuda.is_built():
        assert not ranvier.cuda.is_available() and ranvier.cuda.device_count() == 0


def test_threads_survive_fork():
    """A forked child (multiprocessing) builds its own pool instead of waiting on the parent's."""
    ops.matmul(np.ones((300, 300), np.float32), np.ones((300, 300), np.float32))  # start the pool
    pid = os.fork()
    if pid == 0:
        try:
            y = ops.matmul(np.ones((300, 300), np.float32), np.ones((300, 300), np.float32))
            os._exit(0 if y[0, 0] == 300 else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def test_cpu_tensors_are_read_in_place(torch):
    """A PyTorch tensor is viewed through DLPack, not copied: an in-place update lands in it."""
    param, grad = torch.zeros(5, 4), torch.ones(5, 4)
    ops.sgd_update(param, grad, lr=0.5)
    np.testing.assert_array_equal(param.numpy(), np.full((5, 4), -0.5, np.float32))


def test_ops_accept_tensors_and_return_numpy(torch):
    x, w, b = torch.randn(6, 5), torch.randn(5, 3), torch.randn(3)
    y = ops.linear(x, w, b, "relu")
    assert isinstance(y, np.ndarray)
    np.testing.assert_allclose(y, torch.relu(x @ w + b).numpy(), rtol=1e-5, atol=1e-5)
    wt = torch.randn(3, 5)
    np.testing.assert_allclose(ops.matmul(x, wt.T), (x @ wt.T).numpy(), rtol=1e-5, atol=1e-5)


def test_wrong_dtype_tensor_is_refused(torch):
    with pytest.raises(TypeError, match=r"\[relu\] x must be a float32 array, got \(3,\) float64"):
        ops.relu(torch.zeros(3, dtype=torch.float64))


_BROKEN_CUDA = """
import importlib.abc, sys

class Broken(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "ranvier._cuda":
            raise ImportError("libcudart.so.13: cannot open shared object file")

sys.meta_path.insert(0, Broken())
from ranvier.__main__ import main
main(["info"])
import numpy, ranvier
print("built", ranvier.cuda.is_built(), "available", ranvier.cuda.is_available())
"""


def test_a_cuda_module_that_fails_to_load_says_why():
    out = subprocess.run([sys.executable, "-c", _BROKEN_CUDA], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "the CUDA module failed to load: ImportError: libcudart.so.13: cannot open" in out.stdout
    assert "built True available False" in out.stdout


def test_cuda_unavailable_has_a_reason():
    reason = ranvier.cuda.unavailable_reason()
    assert (reason is None) == ranvier.cuda.is_available()
    if ranvier.cuda.is_built() and reason and "failed to load" not in reason:
        # the runtime's own words (cudaErrorNoDevice, cudaErrorInsufficientDriver, ...) or no GPU at all
        assert "cudaError" in reason or "sees no GPU" in reason, reason


def test_require_cuda_turns_the_cuda_skips_into_failures():
    cuda_test = "tests/test_activation.py::test_non_contiguous_and_nd_inputs"
    env = dict(os.environ, RANVIER_REQUIRE_CUDA="1")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "cuda", cuda_test],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
    )
    reason = ranvier.cuda.unavailable_reason()
    if reason is None:
        assert out.returncode == 0, out.stdout
    else:
        assert out.returncode == 1 and "RANVIER_REQUIRE_CUDA=1" in out.stdout, out.stdout

"""ranvier.distributed on 2 MPI ranks: each test launches ``mpiexec -n 2`` on tests/distributed/worker.py.

Skipped when mpi4py or an ``mpiexec`` (next to the Python, as the mpich
wheel installs it, or on PATH) is missing: ``pip install 'ranvier[distributed]'``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).parent / "distributed" / "worker.py"
TIMEOUT = 60


def _mpiexec():
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


pytestmark = [
    pytest.mark.skipif(not _mpiexec(), reason="no mpiexec (pip install mpich)"),
    pytest.mark.skipif(
        subprocess.run([sys.executable, "-c", "import mpi4py"], capture_output=True).returncode != 0,
        reason="no mpi4py (pip install mpi4py)",
    ),
]


def launch(scenario: str, out_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run(
        [_mpiexec(), "-n", "2", sys.executable, str(WORKER), scenario, str(out_dir)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("distributed")
    run = launch("checks", out_dir)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((out_dir / "results.json").read_text())


@pytest.mark.parametrize(
    "check",
    [
        "check_sgd_even",
        "check_adam_even",
        "check_uneven_split_of_every_batch",
        "check_empty_piece_on_one_rank",
        "check_one_parameter_per_bucket",
        "check_batch_norm_uses_local_statistics",
        "check_same_logs_and_early_stop_everywhere",
        "check_progress_and_checkpoints_on_rank_0_only",
        "check_weights_broadcast_from_rank_0",
        "check_distributed_data_parallel_wrapper",
        "check_sampler_shards_every_index",
        "check_collectives",
        "check_epoch_metrics_and_sample_weights_as_one_process",
        "check_auc_of_the_whole_epoch",
        "check_generator_batches_split_over_ranks",
    ],
)
def test_on_two_ranks(results, check):
    assert check in results, sorted(results)
    assert results[check] == "ok", results[check]


def test_a_rank_that_raises_aborts_every_rank(tmp_path):
    run = launch("raise", tmp_path)
    assert run.returncode != 0
    assert "rank 1 failed on purpose" in run.stderr
    assert "[ranvier.distributed] rank 1 of 2 raised RuntimeError: aborting every rank" in run.stderr
    assert "rank 0 got past the collective" not in run.stdout


def test_models_that_differ_are_refused_on_every_rank(tmp_path):
    run = launch("mismatch", tmp_path)
    assert run.returncode == 0, run.stderr
    for rank in (0, 1):
        assert f"rank {rank} refused: [DataParallel] the model differs across ranks" in run.stdout, run.stdout
    assert "(8, 3) on rank 0 vs" in run.stdout and "(8, 8)" in run.stdout


def test_import_ranvier_does_not_import_mpi4py():
    code = "import sys, ranvier; ranvier.Sequential; assert 'mpi4py' not in sys.modules; import ranvier.distributed"
    code += "; assert 'mpi4py' not in sys.modules"  # imported by the first collective, not by the import
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr


def test_main_job_trains_data_parallel_from_the_readme_command(tmp_path):
    path = tmp_path / "cnn.safetensors"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    command = [_mpiexec(), "-n", "2", sys.executable, "-m", "ranvier", "train", "--distributed"]
    command += ["--epochs", "2", "--verbose", "2", "--save", str(path)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 x 1 threads" in run.stdout and run.stdout.count("test accuracy:") == 1  # rank 0 prints
    assert run.stdout.count("Epoch 2/2") == 1 and path.exists()
    accuracy = float(run.stdout.split("test accuracy:")[1].split()[0])
    assert accuracy > 0.85, run.stdout


def test_overlap_auto_overlaps_only_where_it_can_hide_the_reduction():
    from ranvier.distributed.reducer import overlap_pays

    assert not overlap_pays(False, ranks=2, ranks_here=2, threads=1, cores=2)  # every core computes
    assert not overlap_pays(False, ranks=4, ranks_here=4, threads=2, cores=8)
    assert overlap_pays(False, ranks=4, ranks_here=4, threads=1, cores=8)  # cores to spare for progress
    assert overlap_pays(False, ranks=16, ranks_here=8, threads=8, cores=64)  # other machines: the network
    assert overlap_pays(True, ranks=2, ranks_here=2, threads=1, cores=2)  # NCCL, stream-ordered


def test_bucket_layout_keeps_the_exposed_last_bucket_small():
    from ranvier.distributed.reducer import bucket_layout

    # the seed CNN: conv1 w, b, conv2 w, b, dense1 w, b, dense2 w, b (bytes); backward finishes dense2 first
    sizes = [1152, 128, 73728, 256, 819200, 512, 5120, 40]
    assert bucket_layout(sizes, 512 * 1024) == [[7, 6, 5, 4], [3, 2], [1, 0]]
    assert bucket_layout(sizes, 1) == [[7], [6], [5], [4], [3], [2], [1], [0]]
    assert bucket_layout([4] * 10, 64) == [[9, 8, 7, 6, 5, 4, 3, 2, 1], [0]]
    assert bucket_layout([10**6], 512) == [[0]] and bucket_layout([], 512) == []

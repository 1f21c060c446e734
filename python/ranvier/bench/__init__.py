"""Benchmarks of ranvier's kernels against NumPy and PyTorch (``python -m ranvier bench``).

``timing`` measures, ``cases`` holds one module per kernel family, ``report``
prints and writes the results, ``environment`` records what they ran on,
``gpu`` is the ``--device cuda`` path and ``cli`` the command.
"""

from ranvier.bench.cli import main, run

__all__ = ["main", "run"]

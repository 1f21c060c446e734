"""Every benchmark in one command: ``python benchmarks/run.py [options]``.

The same as ``python -m ranvier bench [options]`` (see ``--help``): ranvier
against NumPy and PyTorch, side by side, written to results/bench.{md,json,png}.
The code is the installed package ranvier.bench.
"""

import sys

from ranvier.bench import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

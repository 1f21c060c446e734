"""Every example runs and reaches its stated result."""
import runpy
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name, *args):
    module = runpy.run_path(str(EXAMPLES / name))
    old_argv = sys.argv
    try:
        return module["main"](list(args))
    finally:
        sys.argv = old_argv


def test_ops_backend_mlp_learns():
    assert run_example("ops_backend_mlp.py", "--steps", "200") > 0.95

"""Command line: ``python -m ranvier info``."""
from __future__ import annotations

import argparse
import sys


def _info(args) -> int:
    from ranvier import info

    print(info.render(info.collect()))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ranvier", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="version, compiler, instruction set, threads, CUDA").set_defaults(run=_info)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``python -m ranvier info | check``."""
from __future__ import annotations

import argparse
import sys


def _info(args) -> int:
    from ranvier import info

    print(info.render(info.collect()))
    return 0


def _check(args) -> int:
    from ranvier import selfcheck

    return selfcheck.main()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ranvier", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="version, compiler, instruction set, threads, CUDA").set_defaults(run=_info)
    sub.add_parser("check", help="every op against its NumPy reference, on every ISA and the GPU").set_defaults(run=_check)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

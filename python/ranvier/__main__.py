"""Command line: ``python -m ranvier info | check | train | bench``."""

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


def _train(argv) -> int:
    from ranvier import train

    train.main(argv)
    return 0


def _bench(argv) -> int:
    from ranvier import bench

    return bench.main(argv)


# Commands that parse every option after their name themselves.
_OWN_PARSERS = {"train": _train, "bench": _bench}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] and argv[0] in _OWN_PARSERS:
        return _OWN_PARSERS[argv[0]](argv[1:])
    parser = argparse.ArgumentParser(prog="python -m ranvier", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="version, compiler, instruction set, threads, CUDA").set_defaults(run=_info)
    sub.add_parser("check", help="every op against its NumPy reference, on every ISA and the GPU").set_defaults(
        run=_check
    )
    sub.add_parser("train", help="train a network (default: a CNN on digits); train --help for its options")
    sub.add_parser("bench", help="ranvier vs NumPy vs PyTorch, side by side (bench --help for its options)")
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

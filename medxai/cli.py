"""The ``medxai`` command line.

Each sub-command lives in its own module under :mod:`medxai.commands` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable taking the
parsed arguments and returning an exit code. User errors (:class:`~medxai.errors.MedxaiError`)
are printed as one line on stderr with a non-zero exit code and no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from medxai.allocator import keep_freed_memory
from medxai.errors import MedxaiError

#: Sub-command modules, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "medxai.commands.phantoms",
    "medxai.commands.data",
    "medxai.commands.report",
    "medxai.commands.evaluate",
    "medxai.commands.demo",
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every available sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="medxai",
        description="Explain, report on and audit musculoskeletal radiograph classifiers.",
    )
    from medxai import __version__

    parser.add_argument("--version", action="version", version=f"medxai {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a command whose optional module is absent
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; returns the process exit code."""
    keep_freed_memory()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MedxaiError as exc:
        print(f"medxai {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"medxai {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

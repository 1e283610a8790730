"""The ``accord`` command line: one console script with subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from accord.protocol import __version__


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="accord",
        description="Take a group from first discussion to a decision everyone agreed to.",
    )
    parser.add_argument("--version", action="version", version=f"accord {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    try:
        from accord.server import cli as server_cli
    except ImportError:  # the relay is not built yet
        pass
    else:
        server_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    code: int = handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())

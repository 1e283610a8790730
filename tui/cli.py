"""The ``accord`` command line: one console script with subcommands.

The parser and ``main`` live here; ``host``, ``join``, ``resume`` and ``demo`` in
``commands.py``, ``export`` in ``export.py``, their shared steps in ``cli_support.py``;
the relay package adds ``serve`` and ``sessions``. Every expected failure (bad code,
unreachable relay, wrong URL, bad config) ends with one line on stderr and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from accord.protocol import __version__
from accord.protocol.text import visible
from accord.tui.config import (
    ConfigError,
)

if TYPE_CHECKING:
    pass

# The network client, the protocol's messages and asyncio load inside the commands that
# use them, so `accord --help` and argument errors answer without paying for them.

from accord.tui.cli_support import DEFAULT_PORT, DEFAULT_SERVER, EXIT_FAIL, EXIT_USAGE, CliError
from accord.tui.commands import run_demo, run_host, run_join, run_resume
from accord.tui.export import run_export


def _one_line_errors(parser: argparse.ArgumentParser) -> None:
    def error(self: argparse.ArgumentParser, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    parser.error = types.MethodType(error, parser)  # type: ignore[method-assign]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="accord",
        description="Take a group from first discussion to a decision everyone agreed to.",
    )
    _one_line_errors(parser)
    parser.add_argument("--version", action="version", version=f"accord {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    host = sub.add_parser(
        "host",
        help="start a session and facilitate it (runs a relay here unless --server)",
        description="Create a session and open its board as the facilitator. Without --server "
        "a relay runs inside this terminal, bound to 127.0.0.1 unless --host says otherwise.",
    )
    host.add_argument("--question", "-q", help="the question the group decides")
    host.add_argument("--server", help="use a relay that is already running, e.g. ws://host:8765")
    host.add_argument("--host", dest="bind", help="address for the built-in relay (0.0.0.0: all)")
    host.add_argument(
        "--port", type=int, help=f"port for the built-in relay (default {DEFAULT_PORT})"
    )
    host.add_argument("--data-dir", type=Path, help="where the built-in relay stores sessions")
    host.set_defaults(handler=run_host)

    join = sub.add_parser(
        "join",
        help="join a session with a code",
        description="Join a session as participant, partner or observer, as the code grants.",
    )
    join.add_argument("code", help="the join code, e.g. ab3d-ef5h-jk7mn")
    join.add_argument("--server", help=f"the relay's URL (default {DEFAULT_SERVER})")
    join.set_defaults(handler=run_join)

    resume = sub.add_parser(
        "resume",
        help="reopen a session you were in",
        description="Reopen the most recent session you were in (or the one named).",
    )
    resume.add_argument("session", nargs="?", default="", help="session id (or its start)")
    resume.add_argument("--list", action="store_true", help="list the sessions you can resume")
    resume.add_argument(
        "--server", help="the session's relay moved: reconnect to it here, e.g. ws://host:9000"
    )
    resume.add_argument(
        "--port", type=int, help="run the built-in relay on another port (others must be told)"
    )
    resume.set_defaults(handler=run_resume)

    demo = sub.add_parser(
        "demo",
        help="try accord alone with simulated colleagues",
        description="Facilitate a practice session with simulated participants from "
        "different departments who add input and vote at a human pace.",
    )
    demo.add_argument("--pace", type=float, default=3.0, help="seconds between their steps")
    demo.add_argument("--people", type=int, default=4, choices=range(1, 5), metavar="1-4")
    demo.set_defaults(handler=run_demo)

    export = sub.add_parser(
        "export",
        help="write a session's decision record",
        description="Write the decision record of a session stored on this machine "
        "(sessions you hosted here, or a relay's data dir).",
    )
    export.add_argument("session", nargs="?", default="", help="session id (default: latest)")
    export.add_argument("--format", choices=("md", "json"), default="md")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.add_argument("--data-dir", type=Path, help="the relay's data dir")
    export.add_argument(
        "--store", default="", help="a relay's redis://host:port/db (its ballot key: --data-dir)"
    )
    export.set_defaults(handler=run_export)

    for child in (host, join, resume, demo, export):
        _one_line_errors(child)
    try:
        from accord.server import cli as server_cli
    except ImportError:  # the relay is not installed
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
    try:
        code: int = handler(args)
    except CliError as exc:
        print(f"accord: {visible(str(exc))}", file=sys.stderr)
        return exc.code
    except ConfigError as exc:
        print(f"accord: {visible(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line for people, the traceback in the crash log
        from accord.tui.crash import save_crash

        print(save_crash(exc), file=sys.stderr)
        return EXIT_FAIL
    return code


if __name__ == "__main__":
    sys.exit(main())

"""The ``accord`` command line: one console script with subcommands.

``host``, ``join``, ``resume``, ``demo`` and ``export`` live here; the relay
package adds ``serve`` and ``sessions``. Every expected failure (bad code,
unreachable relay, wrong URL, bad config) ends with one line on stderr and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import types
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlparse

from accord.protocol import __version__
from accord.protocol import limits as L
from accord.protocol.text import visible
from accord.tui.config import (
    ConfigError,
    KeyStore,
    Membership,
    Profile,
    data_dir,
    load_profile,
    profile_path,
    save_profile,
)

if TYPE_CHECKING:
    from accord.tui.client import Connection

# The network client, the protocol's messages and asyncio load inside the commands that
# use them, so `accord --help` and argument errors answer without paying for them.

DEFAULT_SERVER = "ws://127.0.0.1:8765"
DEFAULT_PORT = 8765
CODE_ALPHABET = set("23456789abcdefghjkmnpqrstuvwxyz")
EXIT_FAIL = 1
EXIT_USAGE = 2


class CliError(Exception):
    """An expected failure: printed as one line, exit code ``code``."""

    def __init__(self, message: str, code: int = EXIT_FAIL) -> None:
        super().__init__(message)
        self.code = code


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


# ---- shared steps ------------------------------------------------------------------


def _run(coro: Coroutine[Any, Any, int]) -> int:
    import asyncio

    return asyncio.run(coro)


def ensure_profile() -> Profile:
    """The saved profile; on first run ask for it once and save it.

    Raises:
        ConfigError: the profile file is broken.
        CliError: no name was given.
    """
    profile = load_profile()
    if profile.complete:
        return profile
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        raise CliError(
            f'no display name yet: run accord in a terminal once, or write name = "..." '
            f"to {profile_path()}"
        )
    from accord.tui.firstrun import FirstRunApp

    answer = FirstRunApp(profile, str(profile_path())).run()
    if answer is None:
        raise CliError("cancelled: a display name is needed to take part")
    save_profile(answer)
    return answer


def check_server_url(url: str) -> str:
    """``url`` if it looks like a relay URL.

    Raises:
        CliError: with what a relay URL looks like.
    """
    parsed = urlparse(url)
    if parsed.scheme not in ("ws", "wss") or not parsed.hostname:
        raise CliError(f"{url!r} is not a relay URL; use ws://host:port or wss://host", EXIT_USAGE)
    try:
        parsed.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise CliError(f"{url!r} has a bad port number", EXIT_USAGE) from None
    return url


def check_code(code: str) -> str:
    """``code`` if it has the shape of a join code (13 characters, dashes ignored).

    Raises:
        CliError: otherwise.
    """
    flat = "".join(code.split()).replace("-", "").lower()
    if len(flat) != 13 or not set(flat) <= CODE_ALPHABET:
        raise CliError(
            f"{code!r} is not a join code; codes look like ab3d-ef5h-jk7mn (ask your facilitator)",
            EXIT_USAGE,
        )
    return code


def _port_of(url: str) -> int:
    parsed = urlparse(url)
    return parsed.port or (443 if parsed.scheme == "wss" else 80)


def reachable_url(bind: str, port: int) -> str:
    """The URL others use to reach a relay bound to ``bind``."""
    if bind in ("0.0.0.0", "::", ""):
        return f"ws://{socket.gethostname()}:{port}"
    host = f"[{bind}]" if ":" in bind else bind
    return f"ws://{host}:{port}"


async def _start_relay(bind: str, port: int, folder: Path, *, fallback: bool) -> Any:
    """Start an embedded relay; with ``fallback`` try any free port if ``port`` is taken.

    Raises:
        CliError: when it cannot start.
    """
    from accord.server.config import ServerConfig
    from accord.server.relay import Relay, StartError

    for candidate in (port, 0) if fallback and port else (port,):
        relay = Relay(ServerConfig(host=bind, port=candidate, data_dir=folder))
        try:
            await relay.start()
        except (StartError, OSError) as exc:
            last = exc
            continue
        return relay
    raise CliError(f"cannot start the built-in relay: {last}")


async def _connect(conn: Connection) -> None:
    from accord.tui.client import ConnectionFailed

    try:
        await conn.start(timeout=20)
    except ConnectionFailed as exc:
        raise CliError(exc.reason) from None
    except TimeoutError:
        await conn.close()
        raise CliError(f"the relay at {conn.url} did not answer in time") from None


async def _board(conn: Connection, **options: Any) -> int:
    from accord.tui.app import AccordApp

    app = AccordApp(conn, **options)
    try:
        await app.run_async()
    finally:
        await conn.close()
    return app.return_code or 0


def _remember(conn: Connection, url: str, embedded: bool, extra: dict[str, str]) -> None:
    session = conn.session
    if session is None:
        return
    me = session.members.get(conn.member_id)
    KeyStore().remember(
        Membership(
            session_id=session.id,
            server=url,
            token=conn.token,
            member_id=conn.member_id,
            role=conn.role,
            name=me.name if me else "",
            question=session.question,
            embedded=embedded,
            codes=extra,
        )
    )


def _codes(conn: Connection) -> dict[str, str]:
    s = conn.secrets
    if s is None:
        return {}
    return {
        "participant": s.participant_code,
        "partner": s.partner_code,
        "observer": s.observer_code,
    }


# ---- host ----------------------------------------------------------------------------


def _ask_question(given: str | None) -> str:
    if given:
        question = given.strip()
    elif sys.stdin.isatty():
        try:
            question = input("What is the group deciding? ").strip()
        except EOFError:
            question = ""
    else:
        question = ""
    question = question or "What change should we make?"
    if len(question) > L.SHORT_TEXT_CHARS:
        raise CliError(f"the question is longer than {L.SHORT_TEXT_CHARS} characters", EXIT_USAGE)
    return question


def run_host(args: argparse.Namespace) -> int:
    """``accord host``."""
    if args.server:
        check_server_url(args.server)
    profile = ensure_profile()
    question = _ask_question(args.question)
    return _run(_host(args, profile, question))


async def _host(args: argparse.Namespace, profile: Profile, question: str) -> int:
    from accord.protocol.messages import Create
    from accord.tui.client import Connection

    relay = None
    bind = args.bind or "127.0.0.1"
    if args.server:
        url = shown = args.server
        note = ""
    else:
        folder = args.data_dir or data_dir()
        relay = await _start_relay(
            bind,
            DEFAULT_PORT if args.port is None else args.port,
            folder,
            fallback=args.port is None,
        )
        url = f"ws://127.0.0.1:{relay.port}" if bind in ("0.0.0.0", "::") else relay.url
        shown = reachable_url(bind, relay.port)
        note = "The relay runs in this terminal: keep the board open while others take part." + (
            " It listens on 127.0.0.1 only; people on other machines can join over SSH "
            "on this machine, or restart with --host 0.0.0.0."
            if bind == "127.0.0.1"
            else ""
        )
    try:
        conn = Connection(
            url, Create(question=question, name=profile.name, department=profile.department)
        )
        await _connect(conn)
        _remember(conn, url, relay is not None, _codes(conn))
        return await _board(
            conn,
            server_label=shown,
            invite_note=note,
            show_invite=True,
            records_dir=data_dir() / "decisions",
        )
    finally:
        if relay is not None:
            await relay.close()


# ---- join and resume ------------------------------------------------------------------


def run_join(args: argparse.Namespace) -> int:
    """``accord join CODE``."""
    check_code(args.code)
    profile = ensure_profile()
    server = check_server_url(args.server or profile.server or DEFAULT_SERVER)
    return _run(_join(server, args.code, profile))


async def _join(server: str, code: str, profile: Profile) -> int:
    from accord.protocol.messages import Hello
    from accord.tui.client import Connection

    conn = Connection(server, Hello(code=code, name=profile.name, department=profile.department))
    await _connect(conn)
    _remember(conn, server, False, {})
    return await _board(conn, records_dir=data_dir() / "decisions")


def run_resume(args: argparse.Namespace) -> int:
    """``accord resume``."""
    store = KeyStore()
    if args.list:
        items = store.load()
        if not items:
            print("no sessions to resume yet", file=sys.stderr)
        for m in items:
            where = "here" if m.embedded else m.server
            print(
                f"{visible(m.session_id)}  {visible(m.role):<11} {visible(where):<24}"
                f" {visible(m.question)}"
            )
        return 0
    membership = store.find(args.session)
    if membership is None:
        what = f"session {args.session!r}" if args.session else "session"
        raise CliError(f"no {what} to resume; join one with: accord join CODE")
    return _run(_resume(membership))


async def _resume(m: Membership) -> int:
    from accord.protocol.messages import Hello
    from accord.tui.client import Connection

    relay = None
    url = m.server
    if m.embedded:
        relay = await _start_relay("127.0.0.1", _port_of(url), data_dir(), fallback=True)
        url = relay.url
    try:
        conn = Connection(url, Hello(token=m.token))
        await _connect(conn)
        if m.codes:
            from accord.protocol.messages import Secrets

            conn.secrets = Secrets(
                facilitator_key=m.token,
                participant_code=m.codes.get("participant", ""),
                partner_code=m.codes.get("partner", ""),
                observer_code=m.codes.get("observer", ""),
            )
        _remember(conn, url, m.embedded, m.codes)
        return await _board(conn, server_label=url, records_dir=data_dir() / "decisions")
    finally:
        if relay is not None:
            await relay.close()


# ---- demo ------------------------------------------------------------------------------


def run_demo(args: argparse.Namespace) -> int:
    """``accord demo``."""
    if args.pace <= 0:
        raise CliError("--pace must be a positive number of seconds", EXIT_USAGE)
    profile = ensure_profile()
    return _run(_demo(profile, args.pace, args.people))


async def _demo(profile: Profile, pace: float, people: int) -> int:
    from accord.protocol.messages import Create
    from accord.tui.client import Connection
    from accord.tui.demo import DEMO_QUESTION, Demo

    with tempfile.TemporaryDirectory(prefix="accord-demo-") as folder:
        relay = await _start_relay("127.0.0.1", 0, Path(folder), fallback=False)
        demo: Demo | None = None
        try:
            conn = Connection(
                relay.url,
                Create(question=DEMO_QUESTION, name=profile.name, department=profile.department),
            )
            await _connect(conn)
            secrets = conn.secrets
            assert secrets is not None  # a Create is always answered with the session's secrets
            demo = Demo(
                relay.url, secrets.participant_code, secrets.partner_code, pace=pace, count=people
            )
            demo.start()
            return await _board(
                conn,
                server_label=relay.url,
                invite_note="This is a practice session with simulated colleagues. Try: "
                "v opens a vote, V reveals it, ] moves to the next phase, ? shows every key.",
                show_invite=True,
                export_dir=Path.cwd(),
                resumable=False,
            )
        finally:
            if demo is not None:
                await demo.stop()
            await relay.close()


# ---- export ------------------------------------------------------------------------------


def run_export(args: argparse.Namespace) -> int:
    """``accord export``: from the local store, else from the relay of a session you joined."""
    folder: Path = args.data_dir or data_dir()
    try:
        return _run(_export(folder, args.session, args.format, args.output))
    except CliError:
        membership = None if args.data_dir else KeyStore().find(args.session)
        if membership is None or membership.embedded:
            raise
        return _run(_export_remote(membership, args.format, args.output))


async def _export_remote(m: Membership, fmt: str, output: Path | None) -> int:
    """Export a joined session's record through its relay, with your member token."""
    from accord.protocol.messages import Hello
    from accord.tui.client import Connection

    conn = Connection(m.server, Hello(token=m.token))
    await _connect(conn)
    try:
        session = conn.session
        assert session is not None  # a welcomed connection always holds a session
        return _write_record(session, fmt, output)
    finally:
        await conn.close()


def _write_record(session: Any, fmt: str, output: Path | None) -> int:
    from accord.protocol.record import record_data, record_markdown

    if fmt == "json":
        text = json.dumps(record_data(session), indent=2, ensure_ascii=False) + "\n"
    else:
        text = record_markdown(session)
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None
        print(f"wrote {output}", file=sys.stderr)
    return 0


async def _export(folder: Path, wanted: str, fmt: str, output: Path | None) -> int:
    from accord.server.config import ServerConfig
    from accord.server.hub import read_session
    from accord.server.storage import SqliteStore
    from accord.server.store import StoreError

    db = ServerConfig(data_dir=folder).db_path
    if not db.is_file():
        raise CliError(f"no sessions are stored in {folder} (use --data-dir for a relay's data)")
    store = SqliteStore(db)
    try:
        await store.open()
        sessions = sorted(await store.sessions(), key=lambda s: -max(s.updated_at, s.created_at))
        matches = [s for s in sessions if s.id.startswith(wanted)] if wanted else sessions[:1]
        if not matches:
            raise CliError(
                f"no session {wanted!r} in {folder}" if wanted else f"no sessions in {folder}"
            )
        if len(matches) > 1:
            raise CliError(f"{wanted!r} matches {len(matches)} sessions; give more of the id")
        loaded = await read_session(store, matches[0].id)
        if loaded is None:
            raise CliError(f"session {matches[0].id} could not be read")
    except StoreError as exc:
        raise CliError(str(exc)) from None
    finally:
        await store.close()
    return _write_record(loaded.session, fmt, output)


if __name__ == "__main__":
    sys.exit(main())

"""The session subcommands: ``host``, ``join``, ``resume`` and ``demo``."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accord.protocol import limits as L
from accord.protocol.text import visible
from accord.tui.config import (
    KeyStore,
    Membership,
    Profile,
    data_dir,
    load_profile,
)

if TYPE_CHECKING:
    pass

# The network client, the protocol's messages and asyncio load inside the commands that
# use them, so `accord --help` and argument errors answer without paying for them.

from accord.tui.cli_support import (
    DEFAULT_PORT,
    DEFAULT_SERVER,
    EXIT_USAGE,
    CliError,
    check_code,
    check_server_url,
    connect,
    ensure_profile,
    member_codes,
    open_board,
    port_of,
    precheck_code,
    reachable_url,
    remember,
    run_async,
    start_relay,
)

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
    return run_async(_host(args, profile, question))


async def _host(args: argparse.Namespace, profile: Profile, question: str) -> int:
    from accord.client import Connection
    from accord.protocol.messages import Create

    relay = None
    bind = args.bind or "127.0.0.1"
    if args.server:
        url = shown = args.server
        note = ""
    else:
        folder = args.data_dir or data_dir()
        relay = await start_relay(
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
        await connect(conn)
        remember(conn, url, relay is not None, member_codes(conn), bind if relay else "")
        return await open_board(
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
    if not load_profile().complete and sys.stdin.isatty() and sys.stdout.isatty():
        # First run: find out that a code is wrong before asking who you are.
        saved = load_profile().server
        run_async(
            precheck_code(check_server_url(args.server or saved or DEFAULT_SERVER), args.code)
        )
    profile = ensure_profile()
    server = check_server_url(args.server or profile.server or DEFAULT_SERVER)
    return run_async(_join(server, args.code, profile))


async def _join(server: str, code: str, profile: Profile) -> int:
    from accord.client import Connection
    from accord.protocol.messages import Hello

    conn = Connection(server, Hello(code=code, name=profile.name, department=profile.department))
    await connect(conn)
    remember(conn, server, False, {})
    return await open_board(conn, records_dir=data_dir() / "decisions")


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
    if args.server:
        check_server_url(args.server)
    if args.port is not None and not membership.embedded:
        raise CliError(
            "--port moves a relay that runs in your terminal; this session's relay is "
            f"{membership.server} (use --server to point at a new address)",
            EXIT_USAGE,
        )
    return run_async(_resume(membership, args.server, args.port))


def stranded(m: Membership, port: int, why: object) -> str:
    """Why the session's relay cannot come back at its address, and what people must do."""
    bind = m.bind or "127.0.0.1"
    shown = reachable_url(bind, port)
    base = shown.rsplit(":", 1)[0]
    return (
        f"cannot reopen this session's relay at {shown}: the port is taken by another "
        f"program ({why}). Participants' boards keep trying that address, so close that "
        "program and run accord resume again; or run accord resume --port OTHER and tell "
        f"participants to run: accord resume --server {base}:OTHER"
    )


async def reopen_relay(m: Membership, port: int | None) -> tuple[Any, str, str, str]:
    """Start ``m``'s embedded relay again at its address (or at ``port`` when asked).

    Returns the relay (None when its port is taken), the URL to connect to, a note for
    the invite when the relay moved on purpose, and what held the port.

    Raises:
        CliError: the port asked for with ``--port`` cannot be used.
    """
    bind = m.bind or "127.0.0.1"
    old = port_of(m.server)
    wanted = old if port is None else port
    try:
        relay = await start_relay(bind, wanted, data_dir(), fallback=False)
    except CliError as exc:
        if wanted != old:
            raise
        # Taken: maybe by the relay of this very session (another accord still running it).
        return None, m.server, "", str(exc).removeprefix("cannot start the built-in relay: ")
    url = f"ws://127.0.0.1:{relay.port}" if bind in ("0.0.0.0", "::") else relay.url
    note = ""
    if wanted != old:
        moved = reachable_url(bind, relay.port)
        note = (
            f"The relay moved from port {old} to {relay.port}. Tell participants to "
            f"run: accord resume --server {moved}"
        )
    return relay, url, note, ""


async def _resume(m: Membership, server: str | None = None, port: int | None = None) -> int:
    """Reopen ``m``: the embedded relay comes back at the same address, never a random one."""
    from accord.client import Connection
    from accord.protocol.messages import Hello

    relay = None
    url = server or m.server
    note = taken_by = ""
    bind = m.bind or "127.0.0.1"
    if m.embedded and server is None:
        relay, url, note, taken_by = await reopen_relay(m, port)
    try:
        conn = Connection(url, Hello(token=m.token))
        squatted = m.embedded and relay is None and server is None
        try:
            # Whatever holds the port answers at once if it is this session's relay.
            await connect(conn, timeout=4.0 if squatted else 20.0)
        except CliError:
            if squatted:
                raise CliError(stranded(m, port_of(m.server), taken_by)) from None
            raise
        if m.codes:
            from accord.protocol.messages import Secrets

            conn.state.secrets = Secrets(
                facilitator_key=m.token,
                participant_code=m.codes.get("participant", ""),
                partner_code=m.codes.get("partner", ""),
                observer_code=m.codes.get("observer", ""),
            )
        embedded = m.embedded and server is None
        remember(conn, url, embedded, m.codes, m.bind if embedded else "")
        label = reachable_url(bind, port_of(url)) if relay is not None else url
        return await open_board(
            conn,
            server_label=label,
            invite_note=note,
            show_invite=bool(note) and conn.secrets is not None,
            records_dir=data_dir() / "decisions",
        )
    finally:
        if relay is not None:
            await relay.close()


# ---- demo ------------------------------------------------------------------------------


def run_demo(args: argparse.Namespace) -> int:
    """``accord demo``."""
    if args.pace <= 0:
        raise CliError("--pace must be a positive number of seconds", EXIT_USAGE)
    profile = ensure_profile()
    return run_async(_demo(profile, args.pace, args.people))


async def _demo(profile: Profile, pace: float, people: int) -> int:
    from accord.client import Connection
    from accord.protocol.messages import Create
    from accord.tui.demo import DEMO_QUESTION, Demo

    with tempfile.TemporaryDirectory(prefix="accord-demo-") as folder:
        relay = await start_relay("127.0.0.1", 0, Path(folder), fallback=False)
        demo: Demo | None = None
        try:
            conn = Connection(
                relay.url,
                Create(question=DEMO_QUESTION, name=profile.name, department=profile.department),
            )
            await connect(conn)
            secrets = conn.secrets
            assert secrets is not None  # a Create is always answered with the session's secrets
            demo = Demo(
                relay.url, secrets.participant_code, secrets.partner_code, pace=pace, count=people
            )
            demo.start()
            return await open_board(
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

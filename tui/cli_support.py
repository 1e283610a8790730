"""What the ``accord`` subcommands share: errors, defaults, checks, starting a relay, the board.

Every expected failure raises ``CliError`` with one line for people; ``cli.main``
prints it. The network client, the protocol's messages and asyncio load inside
the functions that use them, so ``accord --help`` answers without paying for them.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from accord.tui.config import (
    KeyStore,
    Membership,
    Profile,
    load_profile,
    profile_path,
    save_profile,
)
from accord.tui.words import plain_reason

if TYPE_CHECKING:
    from accord.client import Connection


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


def run_async(coro: Coroutine[Any, Any, int]) -> int:
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


async def precheck_code(server: str, code: str) -> int:
    """Ask the relay whether it knows ``code`` without joining (a hello with no name); 0 if so.

    Raises:
        CliError: the relay does not know the code, or cannot be reached.
    """
    from accord.client import Connection, ConnectionFailed
    from accord.protocol.messages import Hello

    conn = Connection(server, Hello(code=code, name=""))
    try:
        await conn.start(timeout=8)
    except ConnectionFailed as exc:
        if exc.code == "bad_message":  # the code is known; only the name is missing
            return 0
        raise CliError(plain_reason(exc.reason)) from None
    except TimeoutError:
        raise CliError(f"the relay at {server} did not answer in time") from None
    finally:
        await conn.close()
    return 0  # welcomed without a name: not what this protocol's relay does; go on and see


def port_of(url: str) -> int:
    parsed = urlparse(url)
    return parsed.port or (443 if parsed.scheme == "wss" else 80)


def reachable_url(bind: str, port: int) -> str:
    """The URL others use to reach a relay bound to ``bind``."""
    if bind in ("0.0.0.0", "::", ""):
        return f"ws://{socket.gethostname()}:{port}"
    host = f"[{bind}]" if ":" in bind else bind
    return f"ws://{host}:{port}"


async def start_relay(bind: str, port: int, folder: Path, *, fallback: bool) -> Any:
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


async def connect(conn: Connection, timeout: float = 20.0) -> None:
    """Start ``conn`` and wait for its welcome.

    Raises:
        CliError: refused, unreachable or silent for ``timeout`` seconds.
    """
    from accord.client import ConnectionFailed

    try:
        await conn.start(timeout=timeout)
    except ConnectionFailed as exc:
        raise CliError(plain_reason(exc.reason)) from None
    except TimeoutError:
        await conn.close()
        raise CliError(f"the relay at {conn.url} did not answer in time") from None


async def open_board(conn: Connection, **options: Any) -> int:
    """Run the board until it exits; the terminal is given back however it ends.

    SIGTERM and SIGHUP (a closed terminal window or tmux pane, ``kill``) end the app
    the ordinary way, so Textual restores the screen and the keyboard mode.
    """
    import asyncio
    import functools
    import signal

    from accord.tui.app import AccordApp

    app = AccordApp(conn, **options)
    loop = asyncio.get_running_loop()
    caught: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            loop.add_signal_handler(sig, functools.partial(app.exit, return_code=128 + sig))
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
            continue
        caught.append(sig)
    try:
        await app.run_async()
    finally:
        for sig in caught:
            loop.remove_signal_handler(sig)
        await conn.close()
    return app.return_code or 0


def remember(
    conn: Connection, url: str, embedded: bool, extra: dict[str, str], bind: str = ""
) -> None:
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
            bind=bind,
        )
    )


def member_codes(conn: Connection) -> dict[str, str]:
    s = conn.secrets
    if s is None:
        return {}
    return {
        "participant": s.participant_code,
        "partner": s.partner_code,
        "observer": s.observer_code,
    }

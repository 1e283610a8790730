"""``accord serve`` and ``accord sessions``: run the relay, and look after its stored sessions."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import json
import logging
import os
import signal
import socket
import sys
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from accord.protocol.text import MULTI_LINE, visible

from .config import DURABILITY, LOG_LEVELS, ConfigError, ServerConfig, load_config
from .settings_help import HELP as _HELP

if TYPE_CHECKING:
    from .sealing import Sealer
    from .store import Store

# The relay, its storage and the record renderer load inside the handlers, so that
# `accord --help` and the client commands do not pay for them.

log = logging.getLogger("accord.server")

#: Settings with a hand-written flag (or none); every other setting gets ``--name-with-dashes``.
_SPECIAL = {
    "data_dir",
    "log_level",
    "origins",
    "admin_token",
    "tls_cert",
    "tls_key",
    "ballot_key_file",
    "durability",
}


def _one_line_errors(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` report a bad flag in one line on stderr, with exit code 2."""

    def error(self: argparse.ArgumentParser, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    parser.error = types.MethodType(error, parser)  # type: ignore[method-assign]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``serve`` and ``sessions`` to the top-level ``accord`` parser."""
    serve = subparsers.add_parser(
        "serve",
        help="run the relay server",
        description="Run the accord relay: sessions over websockets, stored in SQLite. "
        "Flags override the config file, which overrides the defaults.",
    )
    _one_line_errors(serve)
    _add_serve_flags(serve)
    serve.set_defaults(handler=run_serve)

    sessions = subparsers.add_parser(
        "sessions",
        help="list, show, delete or renew stored sessions (export: `accord export`)",
        description="Look after the sessions in a relay's data dir; no running relay needed.",
    )
    _one_line_errors(sessions)
    actions = sessions.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list stored sessions")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show = actions.add_parser("show", help="show one session's summary")
    show.add_argument("session_id", help="the session id (see `accord sessions list`)")
    # The old spelling of `accord export SESSION --data-dir DIR`: says so, does nothing.
    export = actions.add_parser("export", help="moved: use `accord export SESSION --data-dir DIR`")
    export.add_argument("session_id", nargs="?", default="", help=argparse.SUPPRESS)
    export.add_argument("--format", help=argparse.SUPPRESS)
    export.add_argument("-o", "--output", help=argparse.SUPPRESS)
    delete = actions.add_parser("delete", help="delete a session and its secrets")
    delete.add_argument("session_id", help="the session id")
    delete.add_argument("--yes", action="store_true", help="really delete it")
    renew = actions.add_parser(
        "renew-epochs",
        help="give sessions a new epoch (after restoring a backup)",
        description="Clients that saw events newer than a restored backup must start from a "
        "snapshot; a new epoch makes every reconnecting client do so.",
    )
    renew.add_argument("session_ids", nargs="*", metavar="SESSION_ID", help="default: all")
    for action in (listing, show, export, delete, renew):
        _one_line_errors(action)
        action.add_argument("--data-dir", type=Path, help="the relay's data dir")
        action.add_argument("--config", type=Path, help="read data_dir from this server.toml")
        action.add_argument(
            "--store", metavar="URL", help="a redis://host:port/db store instead of the data dir"
        )
    sessions.set_defaults(handler=run_sessions)


def _add_serve_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE", help="TOML config file")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="where sessions are stored")
    parser.add_argument("--log-level", choices=LOG_LEVELS, help="log detail (default info)")
    parser.add_argument(
        "--durability", choices=DURABILITY, help=_HELP["durability"] + " (docs/ops.md)"
    )
    parser.add_argument("--tls-cert", type=Path, metavar="FILE", help="PEM certificate chain")
    parser.add_argument("--tls-key", type=Path, metavar="FILE", help="PEM private key")
    parser.add_argument(
        "--ballot-key-file",
        type=Path,
        metavar="FILE",
        help="key that seals ballots in the database, made 0600 if missing "
        "(default DATA_DIR/ballot.key; back it up with the database)",
    )
    parser.add_argument(
        "--origin",
        dest="origins",
        action="append",
        metavar="URL",
        help="allowed browser Origin (repeat); clients sending none are always allowed",
    )
    parser.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help="require this token to create sessions (or set ACCORD_ADMIN_TOKEN)",
    )
    hints = typing.get_type_hints(ServerConfig)
    for f in dataclasses.fields(ServerConfig):
        if f.name in _SPECIAL:
            continue
        flag = "--" + f.name.replace("_", "-")
        hint = hints[f.name]
        default = f.default if f.default is not dataclasses.MISSING else None
        text = _HELP.get(f.name, f"{f.name.replace('_', ' ')} (default {default})")
        if hint is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=text)
        elif hint in (int, float, str):
            parser.add_argument(
                flag, type=hint, metavar="N" if hint is not str else "TEXT", help=text
            )
        else:
            raise AssertionError(f"no flag for setting {f.name}")  # every field is handled


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(ServerConfig)}
    values = {name: getattr(args, name) for name in names if hasattr(args, name)}
    if values.get("admin_token") is None and os.environ.get("ACCORD_ADMIN_TOKEN"):
        values["admin_token"] = os.environ["ACCORD_ADMIN_TOKEN"]
    return values


# ---- serve -------------------------------------------------------------------------------


def run_serve(args: argparse.Namespace) -> int:
    from . import logs
    from .relay import StartError, tls_context

    """``accord serve``: run until SIGTERM or SIGINT; 0 after a clean stop."""
    try:
        config = load_config(args.config, _overrides(args))
    except ConfigError as exc:
        print(f"accord serve: {visible(str(exc))}", file=sys.stderr)
        return 2
    try:
        tls_context(config)  # bad TLS files are a config problem: report before starting
    except StartError as exc:
        print(f"accord serve: {visible(str(exc))}", file=sys.stderr)
        return 2
    logs.configure(config.log_level, config.log_json)
    # The store's thread needs the GIL back after every SQLite call; with the default
    # 5 ms switch interval a busy event loop made each group commit wait in 5 ms steps
    # (docs/performance.md). 0.5 ms keeps commits short at no measurable cost.
    sys.setswitchinterval(0.0005)
    try:
        return asyncio.run(_serve(config))
    except StartError as exc:
        print(f"accord serve: {visible(str(exc))}", file=sys.stderr)
        return 2 if str(exc).startswith(("tls:", "data:", "store:")) else 1
    except KeyboardInterrupt:  # a second Ctrl-C while shutting down
        return 130


async def _serve(config: ServerConfig) -> int:
    from .gcpolicy import GcPolicy
    from .relay import Relay

    relay = Relay(config)
    await relay.start()
    # Full garbage collections over every connection's objects stalled all sessions
    # for 20-170 ms at a time; see server/gcpolicy.py and docs/performance.md.
    collector = GcPolicy(lambda: relay.committer.commits)
    collector.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    shown = config.host if config.host not in ("0.0.0.0", "::", "") else socket.gethostname()
    public = relay.url.replace(f"//{config.host}:", f"//{shown}:")
    log.info("listening on %s", relay.url)
    if config.store:
        log.info("storing sessions in redis at %s", config.store.split("@")[-1])
    else:
        log.info("storing sessions in %s (durability %s)", config.db_path, config.durability)
    log.info(
        "health at /healthz and /readyz, metrics at /metrics on the same port",
    )
    how = f"accord host --server {public}"
    if config.admin_token:
        how += " (with the admin token)"
    log.info("a facilitator creates a session with: %s", how)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("shutting down: closing clients with 1001 and flushing storage")
    await collector.stop()
    await relay.close()
    return 0


# ---- sessions ----------------------------------------------------------------------------


def store_at(config: ServerConfig, sealer: Sealer | None = None) -> Store:
    """The store a relay with ``config`` keeps its sessions in, seen through ``Store`` only.

    Raises:
        StartError: if the config names Redis and its client library is missing.
    """
    from .relay import open_store

    return open_store(config, sealer, durability=None)


def run_sessions(args: argparse.Namespace) -> int:
    """``accord sessions ACTION``: work on a data dir directly."""
    from .sealing import Sealer, SealError
    from .store import StoreError

    if args.action == "export":
        where = f" --data-dir {args.data_dir}" if args.data_dir else ""
        print(
            "accord sessions export has moved: use "
            f"`accord export {args.session_id or 'SESSION_ID'}{where}` (same --format and -o)",
            file=sys.stderr,
        )
        return 2
    try:
        config = load_config(args.config, {"data_dir": args.data_dir, "store": args.store})
    except ConfigError as exc:
        print(f"accord sessions: {visible(str(exc))}", file=sys.stderr)
        return 2
    sealer = Sealer(config.ballot_key_path)
    with contextlib.suppress(SealError, OSError):
        sealer.load(create=False)  # without it, reading sealed ballots fails with a clear line
    if config.store:
        from .relay import StartError

        try:
            store = store_at(config, sealer)
        except StartError as exc:
            print(f"accord sessions: {visible(str(exc))}", file=sys.stderr)
            return 2
        try:
            return asyncio.run(_sessions(args, store, sealer))
        except StoreError as exc:
            print(f"accord sessions: {visible(str(exc))}", file=sys.stderr)
            return 1
    if not config.db_path.is_file():
        if args.action == "list":
            print(f"no sessions stored in {config.data_dir}", file=sys.stderr)
            return 0
        print(f"accord sessions: no sessions stored in {config.data_dir}", file=sys.stderr)
        return 1
    try:
        return asyncio.run(_sessions(args, store_at(config, sealer), sealer))
    except StoreError as exc:
        print(f"accord sessions: {visible(str(exc))}", file=sys.stderr)
        return 1


def _when(stamp: float) -> str:
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC).strftime("%Y-%m-%d %H:%M")


async def _sessions(args: argparse.Namespace, store: Store, sealer: Sealer) -> int:
    from .loading import read_session

    await store.open()
    try:
        if args.action == "list":
            return await _list(store, args.json)
        if args.action == "renew-epochs":
            return await _renew(store, args.session_ids)
        loaded = await read_session(store, args.session_id, sealer)
        if loaded is None:
            print(f"accord sessions: no session {args.session_id}", file=sys.stderr)
            return 1
        if args.action == "show":
            _show(loaded.info.epoch, loaded.session)
            return 0
        if not args.yes:
            print(
                f"accord sessions: add --yes to delete {args.session_id}"
                f" (“{visible(loaded.session.question)}”); this cannot be undone",
                file=sys.stderr,
            )
            return 1
        await store.delete(args.session_id)
        print(f"deleted {args.session_id}", file=sys.stderr)
        return 0
    finally:
        await store.close()


async def _list(store: Store, as_json: bool) -> int:
    rows = await store.sessions()
    if as_json:
        data = [dataclasses.asdict(r) for r in rows]
        print(_json_visible(json.dumps(data, indent=2, ensure_ascii=False)))
        return 0
    if not rows:
        print("no sessions stored", file=sys.stderr)
        return 0
    print(f"{'ID':14} {'PHASE':8} {'MEMBERS':>7} {'SEQ':>6} {'UPDATED (UTC)':16}  QUESTION")
    for r in rows:
        phase = "closed" if r.closed else r.phase
        question = visible(r.question)
        question = question if len(question) <= 60 else question[:59] + "…"
        when = _when(r.updated_at)
        print(f"{visible(r.id):14} {phase:8} {r.members:>7} {r.seq:>6} {when:16}  {question}")
    return 0


async def _renew(store: Store, session_ids: list[str]) -> int:
    from . import credentials

    rows = {r.id: r for r in await store.sessions()}
    missing = [sid for sid in session_ids if sid not in rows]
    if missing:
        print(f"accord sessions: no session {missing[0]}", file=sys.stderr)
        return 1
    for sid in session_ids or list(rows):
        await store.reset(sid, credentials.new_epoch(), rows[sid].seq)
    print(f"renewed the epoch of {len(session_ids or rows)} session(s)", file=sys.stderr)
    return 0


def _json_visible(text: str) -> str:
    """JSON text with refused characters (C1, bidi) written as JSON escapes: still valid JSON."""
    return MULTI_LINE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def _show(epoch: str, session: Any) -> None:
    """Print a session's summary; text from members is escaped, never printed raw."""
    print(f"session   {visible(session.id)}")
    print(f"question  {visible(session.question)}")
    print(f"created   {_when(session.created_at)} UTC")
    print(f"phase     {'closed' if session.closed else session.phase}")
    print(f"seq       {session.seq} (epoch {epoch})")
    print(f"members   {len(session.members)}")
    for member in session.members.values():
        dept = f", {visible(member.department)}" if member.department else ""
        print(f"  {visible(member.id):6} {visible(member.name)} ({member.role}{dept})")
    print(
        f"board     {len(session.live_cards())} cards, {len(session.live_needs())} needs,"
        f" {len(session.options)} options, {len(session.votes)} votes"
    )
    if session.decision is not None:
        print(f"decision  {visible(session.decision.statement)}")

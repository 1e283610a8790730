"""``accord export``: a session's decision record, from a data dir, a Redis store or a relay."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accord.tui.config import (
    KeyStore,
    Membership,
    data_dir,
)

if TYPE_CHECKING:
    from accord.server.records import RecordFormat

# The network client, the protocol's messages and asyncio load inside the commands that
# use them, so `accord --help` and argument errors answer without paying for them.

from accord.tui.cli_support import CliError, connect, run_async

# ---- export ------------------------------------------------------------------------------


def run_export(args: argparse.Namespace) -> int:
    """``accord export``: from the local store, else from the relay of a session you joined."""
    folder: Path = args.data_dir or data_dir()
    wanted: str = args.session
    store: str = getattr(args, "store", "") or ""
    if not wanted and not args.data_dir and not store:
        # The session you most recently took part in, wherever it ran (not the newest
        # session this machine happens to store).
        latest = KeyStore().find()
        if latest is not None:
            where = "here" if latest.embedded else latest.server
            print(
                f"exporting session {latest.session_id} ({latest.question!r}, {where}), the one "
                "you took part in most recently; give a session id to pick another",
                file=sys.stderr,
            )
            if not latest.embedded:
                return run_async(_export_remote(latest, args.format, args.output))
            wanted = latest.session_id
    try:
        return run_async(_export(folder, wanted, args.format, args.output, store))
    except CliError:
        membership = None if args.data_dir or store else KeyStore().find(wanted)
        if membership is None or membership.embedded:
            raise
        return run_async(_export_remote(membership, args.format, args.output))


async def _export_remote(m: Membership, fmt: RecordFormat, output: Path | None) -> int:
    """Export a joined session's record through its relay, with your member token."""
    from accord.client import Connection
    from accord.protocol.messages import Hello

    conn = Connection(m.server, Hello(token=m.token))
    await connect(conn)
    try:
        session = conn.session
        assert session is not None  # a welcomed connection always holds a session
        return _write_record(session, fmt, output)
    finally:
        await conn.close()


def _write_record(session: Any, fmt: RecordFormat, output: Path | None) -> int:
    from accord.server.records import render_record, write_atomically

    text = render_record(session, fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            write_atomically(output, text)
        except OSError as exc:
            raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None
        print(f"wrote {output}", file=sys.stderr)
    return 0


async def _export(
    folder: Path, wanted: str, fmt: RecordFormat, output: Path | None, url: str = ""
) -> int:
    """Export from a data dir's SQLite file, or from a relay's Redis (``url``)."""
    from accord.server.cli import store_at
    from accord.server.config import ServerConfig
    from accord.server.hub import read_session
    from accord.server.relay import StartError
    from accord.server.sealing import Sealer, SealError
    from accord.server.store import StoreError

    config = ServerConfig(data_dir=folder, store=url)
    if not url and not config.db_path.is_file():
        raise CliError(f"no sessions are stored in {folder} (use --data-dir for a relay's data)")
    sealer = Sealer(config.ballot_key_path)  # ballots are sealed at rest with this key
    with contextlib.suppress(SealError, OSError):
        sealer.load(create=False)
    try:
        store = store_at(config, sealer)
    except StartError as exc:
        raise CliError(str(exc)) from None
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
        loaded = await read_session(store, matches[0].id, sealer)
        if loaded is None:
            raise CliError(f"session {matches[0].id} could not be read")
    except StoreError as exc:
        raise CliError(str(exc)) from None
    finally:
        await store.close()
    return _write_record(loaded.session, fmt, output)

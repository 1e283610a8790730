"""The SQLite (WAL) implementation of the relay's ``Store``, used from one thread."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from accord.protocol.model import Session

from . import runs
from .checkpoint import Checkpointer
from .private import private_dir, private_file, touch_private
from .sealing import Sealer
from .sqlite_schema import SCHEMA, SCHEMA_VERSION
from .store import (
    Append,
    Claimed,
    Grant,
    SessionCapReached,
    SessionInfo,
    StoredEvent,
    StoreError,
    decode_session,
)

T = TypeVar("T")

#: Seconds a write waits for another process's lock on the file before failing.
BUSY_WAIT = 10.0
#: Seconds a readiness probe waits for the write lock before reporting not ready.
READY_WAIT = 1.0


class SqliteStore:
    """A ``Store`` in one SQLite file in WAL mode, used from one dedicated thread.

    sqlite3 blocks, so every call runs in a single worker thread and the
    event loop keeps serving. ``append`` writes a whole batch of sessions'
    events in one transaction (group commit). With ``durability="disk"``
    (``synchronous=FULL``) an acknowledged event survives a crash of the
    process or the machine; with ``"process"`` (``synchronous=NORMAL``) it
    survives a crash of the process, and after an OS crash every session gets
    a new epoch, so clients that saw rolled-back events start from a snapshot.
    ``durability=None`` is for tools beside a running relay: ``disk``, and no
    record of a run of its own.
    """

    def __init__(
        self, path: Path, sealer: Sealer | None = None, durability: str | None = None
    ) -> None:
        self.path = path
        #: opens sealed ballots in stored snapshots (the relay's ballot key)
        self.sealer = sealer
        self.durability = durability
        #: Sessions given a new epoch at open because an OS crash may have rolled them back.
        self.renewed = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="accord-store")
        self._db: sqlite3.Connection | None = None
        self._checkpointer: Checkpointer | None = None

    # ---- plumbing ----------------------------------------------------------

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._db is None:
            raise StoreError(f"{self.path}: the store is not open")
        try:
            return fn(self._db)
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.rollback()
            raise StoreError(f"{self.path}: {exc}") from exc

    def _open(self) -> None:
        try:
            private_dir(self.path.parent)
            touch_private(self.path)  # SQLite gives the -wal and -shm files its mode
            db = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_WAIT)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: cannot open ({exc})") from exc
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise StoreError(f"{self.path}: cannot use WAL mode (got {mode})")
            sync = "NORMAL" if self.durability == "process" else "FULL"
            db.execute(f"PRAGMA synchronous={sync}")
            db.execute("PRAGMA wal_autocheckpoint=0")  # see checkpoint.py
            db.execute("PRAGMA foreign_keys=OFF")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: written by a newer accord (schema {version}); upgrade accord"
                )
            db.executescript(SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            for suffix in ("-wal", "-shm"):  # made before this relay's time, maybe looser
                private_file(self.path.with_name(self.path.name + suffix))
            if self.durability is not None:
                self.renewed = runs.begin(db, self.durability)
        except sqlite3.Error as exc:
            db.close()
            raise StoreError(f"{self.path}: {exc}") from exc
        except StoreError:
            db.close()
            raise
        self._db = db
        self._checkpointer = Checkpointer(self.path, sync)
        self._checkpointer.start()

    async def open(self) -> None:
        """Open (and create if needed) the database file."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, self._open)

    def _close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._db is not None:
            # A checkpoint is an optimisation; the WAL is replayed on the next open anyway.
            with contextlib.suppress(sqlite3.Error):
                if self.durability is not None:
                    runs.end(self._db)
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()
            self._db = None

    async def close(self) -> None:
        """Wait for pending work, checkpoint the WAL and close the file."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, self._close)
        self._pool.shutdown(wait=True)

    # ---- writes --------------------------------------------------------------

    @staticmethod
    def _write(db: sqlite3.Connection, entry: Append) -> None:
        db.executemany(
            "INSERT INTO events (session_id, seq, blob) VALUES (?, ?, ?)",
            [(entry.session_id, e.seq, e.blob) for e in entry.events],
        )
        if entry.revoke_codes:
            db.execute(
                "DELETE FROM grants WHERE session_id = ? AND member_id = ''", (entry.session_id,)
            )
        if entry.revoke_members:
            db.executemany(
                "DELETE FROM grants WHERE session_id = ? AND member_id = ?",
                [(entry.session_id, m) for m in entry.revoke_members],
            )
        if entry.grants:  # most appends have none; each statement costs a GIL round trip
            db.executemany(
                "INSERT OR REPLACE INTO grants (digest, session_id, role, member_id)"
                " VALUES (?, ?, ?, ?)",
                [(d, g.session_id, g.role, g.member_id) for d, g in entry.grants],
            )
        if entry.snapshot is not None:
            db.execute(
                "INSERT OR REPLACE INTO snapshots (session_id, seq, blob) VALUES (?, ?, ?)",
                (entry.session_id, entry.snapshot.seq, entry.snapshot.blob),
            )
        if entry.compact_below > 0:
            db.execute(
                "DELETE FROM events WHERE session_id = ? AND seq < ?",
                (entry.session_id, entry.compact_below),
            )

    async def create(self, append: Append, max_sessions: int = 0) -> None:
        """Store a new session with its first events and grants, under the session cap."""
        info = append.summary

        def work(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            for digest, _ in append.grants:
                if db.execute("SELECT 1 FROM grants WHERE digest = ?", (digest,)).fetchone():
                    db.execute("ROLLBACK")
                    raise Claimed("a credential of this new session already grants something")
            if max_sessions > 0:
                stored = db.execute("SELECT count(*) FROM sessions").fetchone()[0]
                if stored >= max_sessions:
                    db.execute("ROLLBACK")
                    raise SessionCapReached(f"the store holds its most sessions ({stored})")
            db.execute(
                "INSERT INTO sessions (id, epoch, question, created_at, updated_at, seq, phase,"
                " members, closed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    info.id,
                    info.epoch,
                    info.question,
                    info.created_at,
                    info.updated_at,
                    info.seq,
                    info.phase,
                    info.members,
                    int(info.closed),
                ),
            )
            self._write(db, append)
            db.execute("COMMIT")

        await self._run(work)

    async def append(self, batch: Sequence[Append]) -> list[bool]:
        """Commit a batch in one transaction; per entry, False if its seq or epoch was stale."""

        def work(db: sqlite3.Connection) -> list[bool]:
            done: list[bool] = []
            db.execute("BEGIN IMMEDIATE")
            for entry in batch:
                info = entry.summary
                moved = db.execute(
                    "UPDATE sessions SET seq = ?, updated_at = ?, question = ?, phase = ?,"
                    " members = ?, closed = ? WHERE id = ? AND seq = ? AND epoch = ?",
                    (
                        info.seq,
                        info.updated_at,
                        info.question,
                        info.phase,
                        info.members,
                        int(info.closed),
                        entry.session_id,
                        entry.expected_seq,
                        info.epoch,
                    ),
                ).rowcount
                if moved != 1:
                    done.append(False)
                    continue
                self._write(db, entry)
                done.append(True)
            db.execute("COMMIT")
            return done

        return await self._run(work)

    async def reset(self, session_id: str, epoch: str, seq: int) -> None:
        """After a log was found incomplete: a new epoch, and the log cut back to ``seq``."""

        def work(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "UPDATE sessions SET epoch = ?, seq = ? WHERE id = ?", (epoch, seq, session_id)
            )
            db.execute("DELETE FROM events WHERE session_id = ? AND seq > ?", (session_id, seq))
            db.execute("DELETE FROM snapshots WHERE session_id = ? AND seq > ?", (session_id, seq))
            db.execute("COMMIT")

        await self._run(work)

    async def delete(self, session_id: str) -> bool:
        """Remove a session, its log, snapshot and grants; False if it did not exist."""

        def work(db: sqlite3.Connection) -> bool:
            db.execute("BEGIN IMMEDIATE")
            found = db.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount
            for table in ("events", "snapshots", "grants"):
                db.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
            db.execute("COMMIT")
            return bool(found)

        return await self._run(work)

    async def writable(self) -> bool:
        """True if a write transaction can be started now (for readiness checks)."""

        def work(db: sqlite3.Connection) -> bool:
            db.execute(f"PRAGMA busy_timeout={int(READY_WAIT * 1000)}")
            try:
                db.execute("BEGIN IMMEDIATE")
                db.execute("ROLLBACK")
            finally:
                db.execute(f"PRAGMA busy_timeout={int(BUSY_WAIT * 1000)}")
            return True

        try:
            return await self._run(work)
        except StoreError:
            return False

    # ---- reads ---------------------------------------------------------------

    async def events_after(self, session_id: str, seq: int) -> list[StoredEvent]:
        """The stored events with a seq above ``seq``, in order (still encoded)."""

        def work(db: sqlite3.Connection) -> list[StoredEvent]:
            rows = db.execute(
                "SELECT seq, blob FROM events WHERE session_id = ? AND seq > ? ORDER BY seq",
                (session_id, seq),
            )
            return [StoredEvent(int(s), bytes(b)) for s, b in rows]

        return await self._run(work)

    async def snapshot(self, session_id: str) -> Session | None:
        """The latest stored snapshot of a session, if any."""

        def work(db: sqlite3.Connection) -> tuple[int, bytes] | None:
            row = db.execute(
                "SELECT seq, blob FROM snapshots WHERE session_id = ?", (session_id,)
            ).fetchone()
            return None if row is None else (int(row[0]), bytes(row[1]))

        row = await self._run(work)
        if row is None:
            return None
        sealer = self.sealer
        return _decoded(session_id, row[0], row[1], lambda b: decode_session(b, sealer))

    async def info(self, session_id: str) -> SessionInfo | None:
        """A session's summary row, or None if there is no such session."""

        def work(db: sqlite3.Connection) -> SessionInfo | None:
            row = db.execute(f"SELECT {_INFO_COLUMNS} FROM sessions WHERE id = ?", (session_id,))
            found = row.fetchone()
            return None if found is None else _info(found)

        return await self._run(work)

    async def sessions(self) -> list[SessionInfo]:
        """Every stored session's summary, most recently active first."""

        def work(db: sqlite3.Connection) -> list[SessionInfo]:
            rows = db.execute(f"SELECT {_INFO_COLUMNS} FROM sessions ORDER BY updated_at DESC")
            return [_info(r) for r in rows]

        return await self._run(work)

    async def count(self) -> int:
        """How many sessions are stored."""

        def work(db: sqlite3.Connection) -> int:
            return int(db.execute("SELECT count(*) FROM sessions").fetchone()[0])

        return await self._run(work)

    async def stale(self, before: float, limit: int) -> list[SessionInfo]:
        """Up to ``limit`` sessions whose last change is older than ``before``, oldest first."""

        def work(db: sqlite3.Connection) -> list[SessionInfo]:
            rows = db.execute(
                f"SELECT {_INFO_COLUMNS} FROM sessions WHERE updated_at < ?"
                " ORDER BY updated_at LIMIT ?",
                (before, limit),
            )
            return [_info(r) for r in rows]

        return await self._run(work)

    async def grant(self, secret_digest: str) -> Grant | None:
        """What a secret (by its digest) grants, if anything."""

        def work(db: sqlite3.Connection) -> Grant | None:
            row = db.execute(
                "SELECT session_id, role, member_id FROM grants WHERE digest = ?",
                (secret_digest,),
            ).fetchone()
            return None if row is None else Grant(row[0], row[1], row[2])

        return await self._run(work)


_INFO_COLUMNS = "id, epoch, question, created_at, updated_at, seq, phase, members, closed"


def _info(row: tuple[object, ...]) -> SessionInfo:
    sid, epoch, question, created, updated, seq, phase, members, closed = row
    return SessionInfo(
        id=str(sid),
        epoch=str(epoch),
        question=str(question),
        created_at=float(created),  # type: ignore[arg-type]
        updated_at=float(updated),  # type: ignore[arg-type]
        seq=int(seq),  # type: ignore[call-overload]
        phase=str(phase),
        members=int(members),  # type: ignore[call-overload]
        closed=bool(closed),
    )


def _decoded(session_id: str, seq: int, blob: bytes, decode: Callable[[bytes], T]) -> T:
    try:
        return decode(blob)
    except Exception as exc:  # a corrupt row must name itself, whatever the decoder raised
        raise StoreError(
            f"session {session_id} seq {seq}: cannot decode stored data ({exc})"
        ) from exc

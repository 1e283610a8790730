"""The Redis implementation of the relay's ``Store``, shared by any number of relays.

Per session (hash tag ``{sid}``): a meta hash (epoch, seq and the summary),
a stream of events with ids ``<seq>-1``, a snapshot hash, the set of its
credential hashes, and a pub/sub channel other relays follow. Beside them: a
hash per credential hash and a sorted set of every session id. Each write is
one Lua script (``redis_scripts``), so an append lands only if the session
is still at the seq and epoch the relay validated against.

It uses redis-py's asyncio client: the ``Store`` interface is async, Redis
work is network waits rather than CPU, so nothing needs a thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import msgpack
from accord.protocol.model import Role, Session

from . import redis_scripts
from .sealing import Sealer
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

try:
    import redis.asyncio as aioredis
    from redis.exceptions import NoScriptError, RedisError
except ImportError:  # pragma: no cover - exercised without the extra installed
    aioredis = None  # type: ignore[assignment]
    RedisError = NoScriptError = Exception  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from .redis_feed import RedisFeed

T = TypeVar("T")

PREFIX = "accord"
#: Seconds a Redis call may take before the store reports it unavailable.
CALL_TIMEOUT = 5.0
#: Connections one relay keeps to Redis. A burst of commands beyond it waits for a
#: free connection (up to ``CALL_TIMEOUT``) instead of failing: redis-py's default pool
#: refuses the 101st concurrent call with "Too many connections".
POOL_SIZE = 64
#: Seconds a readiness probe waits for Redis.
READY_WAIT = 1.0
#: Seconds a deleted session's tombstone is kept (so relays tell deletion from loss).
TOMBSTONE_SECONDS = 7 * 24 * 3600
#: Events read per XRANGE round trip.
PAGE = 1000


class RedisUnavailable(Exception):
    """The redis client library is not installed; the message says how to get it."""


def channel(session_id: str) -> str:
    """The pub/sub channel of a session's committed events."""
    return f"{PREFIX}:s:{{{session_id}}}:ev"


def _keys(sid: str) -> dict[str, str]:
    base = f"{PREFIX}:s:{{{sid}}}"
    return {
        "meta": f"{base}:meta",
        "log": f"{base}:log",
        "snap": f"{base}:snap",
        "grants": f"{base}:grants",
        "gone": f"{base}:gone",
    }


_INDEX = f"{PREFIX}:sessions"
_GRANT = f"{PREFIX}:g:"


def _meta_pairs(info: SessionInfo) -> list[Any]:
    pairs: list[Any] = [
        "epoch",
        info.epoch,
        "question",
        info.question,
        "created_at",
        repr(info.created_at),
        "updated_at",
        repr(info.updated_at),
        "seq",
        info.seq,
        "phase",
        info.phase,
        "members",
        info.members,
        "closed",
        int(info.closed),
    ]
    return [len(pairs) // 2, *pairs]


def _info(sid: str, raw: dict[bytes, bytes]) -> SessionInfo:
    def text(key: str) -> str:
        return raw.get(key.encode(), b"").decode()

    try:
        return SessionInfo(
            id=sid,
            epoch=text("epoch"),
            question=text("question"),
            created_at=float(text("created_at") or 0),
            updated_at=float(text("updated_at") or 0),
            seq=int(text("seq") or 0),
            phase=text("phase") or "learn",
            members=int(text("members") or 0),
            closed=text("closed") == "1",
        )
    except ValueError as exc:
        raise StoreError(f"session {sid}: unreadable summary in Redis ({exc})") from exc


def event_message(epoch: str, events: Sequence[StoredEvent]) -> bytes:
    """The pub/sub message announcing committed events."""
    return msgpack.packb({"e": epoch, "v": [[e.seq, e.blob] for e in events]})


def read_message(data: bytes) -> tuple[str, list[StoredEvent], bool]:
    """(epoch, events, deleted) from a pub/sub message; raises ValueError if malformed."""
    value = msgpack.unpackb(data)
    if not isinstance(value, dict):
        raise ValueError("not a map")
    if value.get("d"):
        return "", [], True
    events = [StoredEvent(int(s), bytes(b)) for s, b in value.get("v", [])]
    return str(value.get("e", "")), events, False


class RedisStore:
    """A ``Store`` in Redis (7.0 or Valkey), safe to share between relays."""

    def __init__(self, url: str, sealer: Sealer | None = None) -> None:
        if aioredis is None:
            raise RedisUnavailable(
                "the redis store needs the redis package: pip install 'accord[redis]'"
            )
        self.url = url
        #: opens sealed ballots in stored snapshots (the relay's ballot key)
        self.sealer = sealer
        self._pool: Any = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=POOL_SIZE,
            timeout=CALL_TIMEOUT,
            socket_timeout=CALL_TIMEOUT,
            socket_connect_timeout=min(CALL_TIMEOUT, 2.0),
            decode_responses=False,
        )
        self.client: Any = aioredis.Redis(connection_pool=self._pool)
        c = self.client
        self._create = c.register_script(redis_scripts.CREATE)
        self._append = c.register_script(redis_scripts.APPEND)
        self._reset = c.register_script(redis_scripts.RESET)
        self._delete = c.register_script(redis_scripts.DELETE)
        self._restore = c.register_script(redis_scripts.RESTORE)

    def new_feed(self) -> RedisFeed:
        """The pub/sub follower a relay on this store needs (see ``redis_feed``)."""
        from .redis_feed import RedisFeed

        return RedisFeed(self)

    @property
    def where(self) -> str:
        """The server, for messages (the URL without a password)."""
        return self.url.split("@")[-1]

    async def _do(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except RedisError as exc:
            raise StoreError(f"redis at {self.where}: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"redis at {self.where}: {exc}") from exc

    # ---- life cycle --------------------------------------------------------------

    async def open(self) -> None:
        """Check that Redis answers (the scripts load on first use)."""
        await self._do(self.client.ping())

    async def close(self) -> None:
        """Close the connections."""
        await self.client.aclose()
        await self._pool.disconnect()

    # ---- writes ------------------------------------------------------------------

    async def create(self, append: Append, max_sessions: int = 0) -> None:
        """Store a new session, unless a credential is taken or the cap is reached.

        The cap is counted in the same script as the insert, so racing creates
        (on any relay) never overshoot it.

        Raises:
            SessionCapReached: the store holds ``max_sessions`` sessions (above 0).
            Claimed: one of the new credentials already grants something.
        """
        sid = append.session_id
        k = _keys(sid)
        keys = [k["meta"], k["log"], k["grants"], _INDEX, *(_GRANT + d for d, _ in append.grants)]
        args: list[Any] = [max_sessions, sid, repr(append.summary.updated_at)]
        args += _meta_pairs(append.summary)
        args.append(len(append.events))
        for e in append.events:
            args += [e.seq, e.blob]
        for digest, grant in append.grants:
            args += [grant.role, grant.member_id, digest]
        done = await self._do(self._create(keys=keys, args=args))
        if done == -2:
            raise SessionCapReached(f"the store holds its most sessions ({max_sessions})")
        if done == -4:
            raise Claimed("a credential of this new session already grants something")
        if done != 1:
            raise StoreError(f"session {sid}: could not be created (answer {done})")

    @staticmethod
    def _append_args(entry: Append) -> tuple[list[str], list[Any]]:
        sid = entry.session_id
        k = _keys(sid)
        keys = [k["meta"], k["log"], k["grants"], _INDEX, k["snap"]]
        keys += [_GRANT + d for d, _ in entry.grants]
        info = entry.summary
        args: list[Any] = [entry.expected_seq, info.epoch, sid, repr(info.updated_at)]
        args += _meta_pairs(info)
        args.append(len(entry.events))
        for e in entry.events:
            args += [e.seq, e.blob]
        snap = entry.snapshot
        args += [snap.seq, snap.blob] if snap is not None else ["", b""]
        args += [channel(sid), event_message(info.epoch, entry.events)]
        args += [entry.compact_below, _GRANT, int(entry.revoke_codes)]
        args += [len(entry.revoke_members), *entry.revoke_members]
        for digest, grant in entry.grants:
            args += [grant.role, grant.member_id, digest]
        return keys, args

    async def append(self, batch: Sequence[Append]) -> list[bool]:
        """Commit a batch in one round trip; per entry, False if the session moved on.

        Each entry is atomic on its own; entries of different sessions are
        independent (Redis has no cross-key transaction worth its cost here).
        A batch of one is a plain EVALSHA; a bigger one, a pipeline of them
        (redis-py's script objects would add a SCRIPT EXISTS round trip to it).
        """
        calls = [self._append_args(entry) for entry in batch]
        if len(calls) == 1:
            keys, args = calls[0]
            return [await self._do(self._append(keys=keys, args=args)) == 1]
        sha = self._append.sha
        async with self.client.pipeline(transaction=False) as pipe:
            for keys, args in calls:
                pipe.evalsha(sha, len(keys), *keys, *args)
            answers = await self._do(pipe.execute(raise_on_error=False))
        for i, answer in enumerate(answers):
            if isinstance(answer, NoScriptError):  # Redis restarted: load it, run that one
                keys, args = calls[i]
                answers[i] = await self._do(self._append(keys=keys, args=args))
            elif isinstance(answer, Exception):
                raise StoreError(f"redis at {self.where}: {answer}")
        return [a == 1 for a in answers]

    async def reset(self, session_id: str, epoch: str, seq: int) -> None:
        """A new epoch, and the log cut back to ``seq`` (other relays reload)."""
        k = _keys(session_id)
        message = event_message(epoch, [])
        await self._do(
            self._reset(
                keys=[k["meta"], k["log"], k["snap"]],
                args=[epoch, seq, channel(session_id), message],
            )
        )

    async def delete(self, session_id: str) -> bool:
        """Remove a session and its credentials; relays holding it close its clients."""
        k = _keys(session_id)
        keys = [k["meta"], k["log"], k["snap"], k["grants"], _INDEX, k["gone"]]
        message = msgpack.packb({"d": 1})
        args: list[Any] = [session_id, _GRANT, channel(session_id), message, TOMBSTONE_SECONDS]
        return bool(await self._do(self._delete(keys=keys, args=args)))

    async def restore(self, info: SessionInfo, snapshot: bytes) -> bool:
        """Write a session Redis lost back from memory, as a snapshot in a new epoch.

        Only a relay that holds the session calls this, after finding it
        missing without a deletion tombstone. False if it exists again.
        """
        k = _keys(info.id)
        args: list[Any] = [info.id, repr(info.updated_at), *_meta_pairs(info)]
        args += [info.seq, snapshot, channel(info.id), event_message(info.epoch, [])]
        keys = [k["meta"], k["log"], k["snap"], _INDEX]
        return bool(await self._do(self._restore(keys=keys, args=args)) == 1)

    async def writable(self) -> bool:
        """True if Redis takes a write now (a replica or a stopped server does not)."""
        try:
            return bool(await self.client.set(f"{PREFIX}:ready", b"1", px=int(READY_WAIT * 1000)))
        except (RedisError, OSError):
            return False

    # ---- reads -------------------------------------------------------------------

    async def events_after(self, session_id: str, seq: int) -> list[StoredEvent]:
        """The stored events with a seq above ``seq``, in order."""
        log = _keys(session_id)["log"]
        found: list[StoredEvent] = []
        start = f"{seq + 1}-0"
        while True:
            page = await self._do(self.client.xrange(log, min=start, max="+", count=PAGE))
            for entry_id, fields in page:
                found.append(StoredEvent(int(entry_id.split(b"-")[0]), bytes(fields[b"b"])))
            if len(page) < PAGE:
                return found
            start = f"{found[-1].seq + 1}-0"

    async def snapshot(self, session_id: str) -> Session | None:
        """The latest stored snapshot of a session, if any."""
        raw = await self._do(self.client.hmget(_keys(session_id)["snap"], "seq", "blob"))
        if raw[0] is None or raw[1] is None:
            return None
        try:
            return decode_session(raw[1], self.sealer)
        except Exception as exc:  # a corrupt snapshot must name itself
            raise StoreError(
                f"session {session_id} seq {int(raw[0])}: cannot decode stored data ({exc})"
            ) from exc

    async def info(self, session_id: str) -> SessionInfo | None:
        """A session's summary, or None if there is no such session."""
        raw = await self._do(self.client.hgetall(_keys(session_id)["meta"]))
        return _info(session_id, raw) if raw else None

    async def heads(self, session_ids: Sequence[str]) -> dict[str, tuple[str, int] | None]:
        """(epoch, seq) of each session, None for a missing one; one round trip."""
        async with self.client.pipeline(transaction=False) as pipe:
            for sid in session_ids:
                pipe.hmget(_keys(sid)["meta"], "epoch", "seq")
            rows = await self._do(pipe.execute())
        return {
            sid: None if row[0] is None else (row[0].decode(), int(row[1] or 0))
            for sid, row in zip(session_ids, rows, strict=True)
        }

    async def deleted(self, session_id: str) -> bool:
        """True if an operator deleted this session (recently), rather than Redis losing it."""
        return bool(await self._do(self.client.exists(_keys(session_id)["gone"])))

    async def sessions(self) -> list[SessionInfo]:
        """Every stored session's summary, most recently active first."""
        ids = [i.decode() for i in await self._do(self.client.zrevrange(_INDEX, 0, -1))]
        async with self.client.pipeline(transaction=False) as pipe:
            for sid in ids:
                pipe.hgetall(_keys(sid)["meta"])
            rows = await self._do(pipe.execute())
        return [_info(sid, raw) for sid, raw in zip(ids, rows, strict=True) if raw]

    async def stale(self, before: float, limit: int) -> list[SessionInfo]:
        """Up to ``limit`` sessions whose last change is older than ``before``, oldest first."""
        found = await self._do(
            self.client.zrangebyscore(_INDEX, "-inf", f"({before!r}", start=0, num=limit)
        )
        ids = [i.decode() for i in found]
        async with self.client.pipeline(transaction=False) as pipe:
            for sid in ids:
                pipe.hgetall(_keys(sid)["meta"])
            rows = await self._do(pipe.execute())
        return [_info(sid, raw) for sid, raw in zip(ids, rows, strict=True) if raw]

    async def count(self) -> int:
        """How many sessions are stored."""
        return int(await self._do(self.client.zcard(_INDEX)))

    async def grant(self, secret_digest: str) -> Grant | None:
        """What a secret (by its digest) grants, if anything."""
        raw = await self._do(self.client.hgetall(_GRANT + secret_digest))
        if not raw:
            return None
        role = cast(Role, raw.get(b"role", b"").decode())
        return Grant(raw.get(b"sid", b"").decode(), role, raw.get(b"member", b"").decode())

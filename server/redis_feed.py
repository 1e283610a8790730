"""Fan-out between relays: each relay follows, on Redis pub/sub, the sessions it holds.

Pub/sub delivers at most once, so it is only the fast path. A relay
subscribes to a session before it loads it and keeps what arrives until the
host exists; the host skips what it already has and fills any gap from the
stream. A periodic look at every held session's stored seq and epoch catches
messages lost while the pub/sub connection was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from .redis_store import PREFIX, RedisStore, channel, read_message
from .requests import Heard
from .store import StoreError

log = logging.getLogger("accord.server.feed")

#: Seconds between looks at the stored head of every held session.
CHECK_SECONDS = 1.0
#: Seconds to wait for Redis to confirm a subscription.
SUBSCRIBE_WAIT = 5.0
_CHANNEL_HEAD = f"{PREFIX}:s:{{"

Route = Callable[[Heard], None] | list[Heard]


def _session_of(name: bytes | str) -> str:
    text = name.decode() if isinstance(name, bytes) else name
    return text[len(_CHANNEL_HEAD) :].partition("}")[0]


class RedisFeed:
    """Follows held sessions' channels and hands their news to the session hosts."""

    def __init__(self, store: RedisStore, check_every: float = CHECK_SECONDS) -> None:
        self._store = store
        self._check_every = check_every
        self._pubsub: Any = store.client.pubsub()
        #: session id -> its host's ``hear``, or the news kept until the host exists
        self._routes: dict[str, Route] = {}
        self._confirming: dict[str, asyncio.Future[None]] = {}
        self._subscribed = asyncio.Event()
        self._check_now = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start reading messages and checking heads."""
        self._tasks = [
            asyncio.create_task(self._read(), name="accord-feed-reader"),
            asyncio.create_task(self._check(), name="accord-feed-checker"),
        ]

    async def close(self) -> None:
        """Stop both loops and the pub/sub connection."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        with contextlib.suppress(RedisError, OSError):
            await self._pubsub.aclose()

    # ---- following -------------------------------------------------------------------

    async def follow(self, session_id: str) -> None:
        """Subscribe (and wait until Redis confirms it), keeping news until ``attach``.

        Raises:
            StoreError: if Redis does not confirm in time.
        """
        if session_id in self._routes:
            self._routes[session_id] = []
            return
        self._routes[session_id] = []
        name = channel(session_id)
        confirmed = asyncio.get_running_loop().create_future()
        self._confirming[name] = confirmed
        try:
            await self._pubsub.subscribe(name)
            self._subscribed.set()
            async with asyncio.timeout(SUBSCRIBE_WAIT):
                await confirmed
        except (RedisError, OSError, TimeoutError) as exc:
            self._routes.pop(session_id, None)
            raise StoreError(f"redis at {self._store.where}: cannot subscribe ({exc})") from exc
        finally:
            self._confirming.pop(name, None)

    def attach(self, session_id: str, hear: Callable[[Heard], None]) -> None:
        """Hand what was kept, then everything later, to ``hear``."""
        kept = self._routes.get(session_id)
        self._routes[session_id] = hear
        if isinstance(kept, list):
            for heard in kept:
                hear(heard)

    async def unfollow(self, session_id: str) -> None:
        """Unsubscribe from a session's channel."""
        if self._routes.pop(session_id, None) is None:
            return
        try:
            await self._pubsub.unsubscribe(channel(session_id))
        except (RedisError, OSError) as exc:
            raise StoreError(f"redis at {self._store.where}: {exc}") from exc

    # ---- the loops ---------------------------------------------------------------------

    async def _read(self) -> None:
        pause = 0.05
        while True:
            await self._subscribed.wait()
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except (RedisError, OSError, RuntimeError) as exc:
                log.warning("redis pub/sub failed (%s); checking heads instead", exc)
                self._check_now.set()
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)
                continue
            pause = 0.05
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        name = message.get("channel", b"")
        name = name.decode() if isinstance(name, bytes) else str(name)
        if kind == "subscribe":
            confirmed = self._confirming.get(name)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)
            return
        if kind != "message":
            return
        session_id = _session_of(name)
        route = self._routes.get(session_id)
        if route is None:
            return
        try:
            epoch, events, gone = read_message(message["data"])
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("unreadable news of session %s: %s", session_id, exc)
            self._check_now.set()
            return
        seq = events[-1].seq if events else -1
        heard = Heard(epoch=epoch, seq=seq, events=events, gone=gone)
        if not events and not gone:  # a new epoch: only the head tells the rest
            heard = Heard(epoch=epoch, seq=-1, gone=False)
        if isinstance(route, list):
            route.append(heard)
        else:
            route(heard)

    async def _check(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._check_every):
                    await self._check_now.wait()
            self._check_now.clear()
            held = {sid: r for sid, r in self._routes.items() if not isinstance(r, list)}
            if not held:
                continue
            try:
                heads = await self._store.heads(list(held))
            except StoreError as exc:
                log.warning("cannot check stored sessions: %s", exc)
                continue
            for sid, head in heads.items():
                route = self._routes.get(sid)
                if route is None or isinstance(route, list):
                    continue
                if head is None:
                    route(Heard(epoch="", seq=0, gone=True))
                else:
                    route(Heard(epoch=head[0], seq=head[1]))

"""Encoded snapshots for welcomes: cached per member and seq, built off the event loop if big.

A hello without ``last_seq`` asks for the whole board. Projecting and encoding a
big board costs milliseconds of the one event loop every session shares, so the
encoded projection is kept for the session's current seq (a client that asks
again gets the same bytes) and a big one is built in a worker thread.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import msgpack
from accord.protocol import PROTOCOL_VERSION, codec, views
from accord.protocol.messages import Welcome
from accord.protocol.model import Session
from accord.protocol.schema import encode_value

#: Boards at least this big (estimated, in bytes) are projected and encoded in a thread.
BIG_BOARD = 256 * 1024
#: Encoded snapshots kept per session (a member's view at the current seq each).
CACHED_VIEWS = 16


class SnapshotCache:
    """The encoded snapshot of each recently welcomed member's view at the current seq."""

    def __init__(self, max_entries: int = CACHED_VIEWS) -> None:
        self._max = max_entries
        self._seq = -1
        self._views: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self.hits = 0

    async def encoded(self, session: Session, member_id: str, size_hint: int) -> bytes:
        """``member_id``'s snapshot of ``session`` as msgpack bytes.

        The caller must not change ``session`` until this returns (the session's
        single worker awaits it, so nothing else does).
        """
        if session.seq != self._seq:
            self._views.clear()
            self._seq = session.seq
        blob = self._views.get(member_id)
        if blob is not None:
            self._views.move_to_end(member_id)
            self.hits += 1
            return blob
        if size_hint >= BIG_BOARD:
            blob = await asyncio.to_thread(_encode_view, session, member_id)
        else:
            blob = _encode_view(session, member_id)
        self._views[member_id] = blob
        while len(self._views) > self._max:
            self._views.popitem(last=False)
        return blob


def _encode_view(session: Session, member_id: str) -> bytes:
    return codec.encode_plain(views.project_session(session, member_id))


def welcome_frame(welcome: Welcome, snapshot: bytes) -> bytes:
    """The frame of ``welcome`` with ``snapshot`` (already encoded) as its snapshot field.

    The same bytes ``codec.encode`` would write, except that the snapshot comes
    last in the map; decoders do not care about key order.
    """
    fields: dict[str, Any] = {"t": Welcome.TYPE, "v": PROTOCOL_VERSION}
    fields.update(encode_value(welcome))
    fields.pop("snapshot", None)
    packer = msgpack.Packer(use_bin_type=True)
    parts = [packer.pack_map_header(len(fields) + 1)]
    for key, value in fields.items():
        parts.append(packer.pack(key))
        parts.append(packer.pack(value))
    parts.append(packer.pack("snapshot"))
    parts.append(snapshot)
    return b"".join(parts)

"""The raw baseline: a bare websockets ``broadcast()`` relay with msgpack and nothing else.

Every figure in the bench is printed next to this relay's figure from the
same run. Per message it does ``unpackb`` -> stamp a room seq -> ``packb`` ->
``broadcast()`` to the room, the least a relay of sequenced events can do.
To give resume a baseline too, each room keeps its last frames in memory and
replays those after a client's ``last`` seq. No validation, no storage, no
privacy.

Frames (msgpack maps): the first one a client sends is
``{"t": "hello", "room": str, "last": int}`` (``last`` < 0 for no replay);
the relay answers ``{"t": "welcome", "seq": int}`` then any replayed frames.
Every later frame is relayed to the whole room (the sender too) with ``seq``
and ``at`` added.

Run it as ``python -m bench.baseline [--port 0]``; it prints ``PORT <n>``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import signal
import sys
import time
from typing import Any

import msgpack
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

#: How many recent frames each room keeps for resume.
HISTORY = 2000


class Room:
    """The members of one room and its recent frames."""

    def __init__(self) -> None:
        self.members: set[ServerConnection] = set()
        self.seq = 0
        self.history: collections.deque[tuple[int, bytes]] = collections.deque(maxlen=HISTORY)


ROOMS: dict[str, Room] = {}


async def handle(ws: ServerConnection) -> None:
    """Serve one connection: a hello, then relay every frame to the room."""
    try:
        hello: Any = msgpack.unpackb(await ws.recv(decode=False))
        name = str(hello["room"])
        last = int(hello.get("last", -1))
    except (ConnectionClosed, ValueError, KeyError, TypeError):
        return
    room = ROOMS.get(name)
    if room is None:
        room = ROOMS[name] = Room()
    try:
        await ws.send(msgpack.packb({"t": "welcome", "seq": room.seq}))
        if last >= 0:
            for seq, frame in list(room.history):
                if seq > last:
                    await ws.send(frame)
        room.members.add(ws)
        while True:
            msg = msgpack.unpackb(await ws.recv(decode=False))
            room.seq += 1
            msg["seq"] = room.seq
            msg["at"] = time.time()
            frame = msgpack.packb(msg)
            room.history.append((room.seq, frame))
            broadcast(room.members, frame)
    except ConnectionClosed:
        pass
    finally:
        room.members.discard(ws)


async def main(port: int) -> None:
    """Serve on 127.0.0.1 until SIGTERM or SIGINT, printing the port first."""
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(handle, "127.0.0.1", port, compression=None) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        print(f"PORT {bound}", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(main(args.port))
    sys.exit(0)

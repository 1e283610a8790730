"""When the relay's garbage collector runs full collections, so they do not stall every session.

A relay with thousands of connections holds a few hundred thousand tracked
objects (each websockets connection keeps ~100: its tasks, coroutines,
futures, timers, buffers). CPython runs a full (generation 2) collection
whenever the objects promoted since the last one exceed a quarter of the old
ones, and a full collection walks all of them with the GIL held: 20-170 ms
during which no session moves (docs/performance.md). Under a steady load the
medium-lived objects of in-flight commands are promoted all the time, so
those pauses came every few seconds.

``accord serve`` therefore:

- freezes (``gc.freeze()``) what exists once the relay is up, and again after
  every automatic full collection, so the next one only walks objects
  promoted since;
- once in a while, preferably when no commit happened for a tick, unfreezes
  and runs one full collection, so cyclic garbage among frozen objects (a
  closed connection's, say) is still reclaimed; at most ``FULL_EVERY``
  seconds apart, at least ``IDLE_AFTER`` apart.

Young collections (generations 0 and 1) are left at CPython's defaults: they
are cheap, and raising their thresholds made each one longer.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger("accord.server.gc")

#: Seconds between checks.
TICK = 1.0
#: A quiet tick (no commit during it) runs the full collection if the last one is this old.
IDLE_AFTER = 30.0
#: The full collection runs at least this often, busy or not.
FULL_EVERY = 600.0


class GcPolicy:
    """Freezes survivors and schedules full collections; ``start()`` inside the event loop."""

    def __init__(self, activity: Callable[[], int]) -> None:
        """``activity`` returns a number that changes whenever the relay did work (commits)."""
        self._activity = activity
        self._task: asyncio.Task[None] | None = None
        self.full_collections = 0

    def start(self) -> None:
        """Freeze what exists now and start the background checks."""
        gc.collect()
        gc.freeze()
        self._task = asyncio.create_task(self._run(), name="accord-gc")

    async def stop(self) -> None:
        """Stop the checks and hand everything back to the collector."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        gc.unfreeze()

    async def _run(self) -> None:
        last_full = time.monotonic()
        automatic = gc.get_stats()[2]["collections"]
        seen = self._activity()
        while True:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            activity = self._activity()
            quiet = activity == seen
            seen = activity
            if now - last_full >= FULL_EVERY or (quiet and now - last_full >= IDLE_AFTER):
                started = time.perf_counter()
                gc.unfreeze()
                gc.collect()
                gc.freeze()
                self.full_collections += 1
                last_full = now
                log.debug("full collection: %.1f ms", (time.perf_counter() - started) * 1000)
                automatic = gc.get_stats()[2]["collections"]
                continue
            count = gc.get_stats()[2]["collections"]
            if count != automatic:
                # An automatic full collection ran since the last tick: what survived it
                # is old; keep it out of the next one.
                automatic = count
                gc.freeze()

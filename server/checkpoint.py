"""WAL checkpoints on a thread of their own, off the path from a command to its fan-out.

By default SQLite checkpoints inside the COMMIT that pushes the WAL past
1,000 pages, on the committing connection: that commit then also copies the
WAL into the database file and syncs it, and every session waiting on that
group commit waits for it too. Measured here with ``synchronous=NORMAL``:
p99.9 of a one-event commit 13-15 ms with automatic checkpoints, 4 ms without
(docs/performance.md). So the store's connection turns them off and this
thread runs PASSIVE checkpoints from its own connection: they never take the
write lock, so commits go on while the pages are copied.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("accord.server.storage")

#: Seconds between looks at the WAL's size.
LOOK_EVERY = 0.25
#: WAL bytes above which a checkpoint runs (SQLite's own default is 1,000 pages).
WAL_LIMIT = 4 * 1024 * 1024


class Checkpointer:
    """Copies the WAL into the database file in the background when it grows."""

    def __init__(self, path: Path, synchronous: str, limit: int | None = None) -> None:
        self.path = path
        self._wal = path.with_name(path.name + "-wal")
        self._synchronous = synchronous
        self._limit = limit or WAL_LIMIT
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Checkpoints run so far (for tests and metrics).
        self.runs = 0

    def start(self) -> None:
        """Start the thread."""
        self._thread = threading.Thread(target=self._loop, name="accord-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (the store's close does the last, truncating checkpoint)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            log.error("%s: checkpoints stopped: %s", self.path, exc)
            return
        try:
            db.execute(f"PRAGMA synchronous={self._synchronous}")
            while not self._stop.wait(LOOK_EVERY):
                try:
                    if self._wal.stat().st_size < self._limit:
                        continue
                except OSError:
                    continue
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.runs += 1
                except sqlite3.Error as exc:  # busy or full: the next look tries again
                    log.warning("%s: checkpoint failed: %s", self.path, exc)
        finally:
            db.close()

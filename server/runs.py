"""Which relay run last wrote a SQLite store, and whether it ended cleanly.

Under ``durability = "process"`` an OS crash may roll back the last commits,
which clients may have seen. The store remembers the machine's boot id and
whether the last run stopped cleanly, so the next run can tell a crash of the
OS (a new boot id) from a crash of the relay alone, and renew every epoch.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from . import credentials

#: Where Linux names the current boot; another value after a restart means the OS restarted.
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str:
    """This boot of the machine's id, or "" where the OS does not say."""
    try:
        return BOOT_ID.read_text(encoding="ascii").strip()
    except OSError:
        return ""


def begin(db: sqlite3.Connection, durability: str) -> int:
    """Start a run: renew every epoch if the last one used ``process`` and the OS went down.

    Returns how many sessions got a new epoch. The run counts as unclean until ``end``.
    """
    state = dict(db.execute("SELECT key, value FROM relay_state").fetchall())
    renewed = 0
    boot = boot_id()
    db.execute("BEGIN IMMEDIATE")
    if (
        state.get("clean") == "0"
        and state.get("durability") == "process"
        and state.get("boot") != boot
    ):
        ids = [row[0] for row in db.execute("SELECT id FROM sessions")]
        db.executemany(
            "UPDATE sessions SET epoch = ? WHERE id = ?",
            [(credentials.new_epoch(), sid) for sid in ids],
        )
        renewed = len(ids)
    db.executemany(
        "INSERT OR REPLACE INTO relay_state (key, value) VALUES (?, ?)",
        [("boot", boot), ("clean", "0"), ("durability", durability)],
    )
    db.execute("COMMIT")
    return renewed


def end(db: sqlite3.Connection) -> None:
    """Mark the run as stopped cleanly."""
    db.execute("INSERT OR REPLACE INTO relay_state (key, value) VALUES ('clean', '1')")

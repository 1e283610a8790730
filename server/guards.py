"""What the relay refuses to spend: per-address budgets, and writes when the disk is full."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from accord.protocol.errors import ErrorCode, Refusal

from .config import ServerConfig
from .ratelimit import AddressBuckets

log = logging.getLogger("accord.server.guards")

#: Seconds a free-space reading is trusted before the disk is asked again.
DISK_CHECK_SECONDS = 1.0
MIB = 1024 * 1024


class DiskGuard:
    """Knows whether the data disk has room for more writes (asked at most once a second)."""

    def __init__(self, path: Path, floor_mb: int) -> None:
        self.path = path
        self.floor = floor_mb * MIB
        self._checked = -DISK_CHECK_SECONDS
        self._free = 0
        self._low = False

    def free(self) -> int:
        """Free bytes on the data dir's disk (cached for a second)."""
        now = time.monotonic()
        if now - self._checked >= DISK_CHECK_SECONDS:
            self._checked = now
            self._free = _free_bytes(self.path)
            low = self._free < self.floor
            if low and not self._low:
                log.warning(
                    "free disk space below the floor: refusing writes",
                    extra={"free_mb": self._free // MIB, "floor_mb": self.floor // MIB},
                )
            elif self._low and not low:
                log.info("free disk space above the floor again: taking writes")
            self._low = low
        return self._free

    def shortage(self) -> str:
        """``"N MiB free, below the floor of M MiB"`` when writes must stop, else ``""``."""
        if self.floor <= 0:
            return ""
        free = self.free()
        if free >= self.floor:
            return ""
        return f"{free // MIB} MiB free, below the floor of {self.floor // MIB} MiB"

    def problem(self) -> str:
        """Why writes are refused now, for the person who asked, or ``""`` when there is room."""
        shortage = self.shortage()
        if not shortage:
            return ""
        return f"the relay's disk is nearly full ({shortage}); nothing was changed, try later"

    def check(self) -> None:
        """Raise if writes must be refused now.

        Raises:
            Refusal: ``server_error`` when free space is below the floor.
        """
        problem = self.problem()
        if problem:
            raise Refusal(ErrorCode.SERVER_ERROR, problem)


class Guards:
    """The relay's per-address budgets and its disk guard, shared by every connection."""

    def __init__(self, config: ServerConfig) -> None:
        self.creates = AddressBuckets(config.creates_per_minute, config.create_burst)
        self.failed_joins = AddressBuckets(config.failed_joins_per_minute, config.failed_join_burst)
        self.snapshots = AddressBuckets(config.snapshots_per_minute, config.snapshot_burst)
        self.disk = DiskGuard(config.data_dir, config.min_free_disk_mb)


def slow_down(what: str, seconds: float) -> Refusal:
    """The refusal for an address over one of its budgets."""
    wait = max(1, round(seconds))
    return Refusal(
        ErrorCode.RATE_LIMITED, f"too many {what} from your address; try again in {wait} s"
    )


def _free_bytes(path: Path) -> int:
    """Free bytes on the disk holding ``path``, or its nearest existing parent."""
    for place in (path, *path.parents):
        try:
            return shutil.disk_usage(place).free
        except OSError:
            continue
    return 0

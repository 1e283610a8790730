"""Files only the relay's user may read: the data dir 0700, everything in it 0600."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("accord.server.data")

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) if needed, and make it 0700.

    A directory that already exists with looser permissions is tightened when
    this user owns it, with one log line saying so.

    Raises:
        OSError: if the directory cannot be created.
    """
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)


def private_file(path: Path) -> None:
    """Make an existing file 0600 (a missing one is fine)."""
    with contextlib.suppress(FileNotFoundError):
        _tighten(path, FILE_MODE)


def touch_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists; make an existing one 0600.

    Raises:
        OSError: if it cannot be created.
    """
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    _tighten(path, FILE_MODE)


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with ``data``, readable by this user only.

    Raises:
        OSError: if it cannot be written.
    """
    partial = path.with_name(path.name + ".partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    partial.replace(path)


def _tighten(path: Path, mode: int) -> None:
    info = path.stat()
    if stat.S_IMODE(info.st_mode) & ~mode == 0:
        return
    if info.st_uid != os.getuid():
        log.warning("%s is readable by others and not ours to change; fix its mode", path)
        return
    os.chmod(path, stat.S_IMODE(info.st_mode) & mode)
    log.info("tightened the permissions of %s to %o", path, mode)

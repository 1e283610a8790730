"""The terminal is given back when the board is ended by a signal (a closed pane, ``kill``)."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from accord.tui.config import Profile, save_profile

ENTER_ALT = b"\x1b[?1049h"
LEAVE_ALT = b"\x1b[?1049l"


def read_until(fd: int, want: bytes, seen: bytearray, timeout: float) -> bool:
    """Read the pty into ``seen`` until ``want`` shows up or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while want not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the pty
                return want in seen
            if not chunk:
                return want in seen
            seen.extend(chunk)
    return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_signal_restores_the_terminal(sig: signal.Signals, tmp_path: Path) -> None:
    """SIGTERM or SIGHUP to a hosting board leaves the alternate screen and exits."""
    save_profile(Profile(name="Fay", department="Ops"))
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "accord.tui.cli", "host", "-q", "Which way?", "--port", "0"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"},
        start_new_session=True,
    )
    os.close(follower)
    seen = bytearray()
    try:
        assert read_until(leader, ENTER_ALT, seen, 30), seen[-400:]
        assert read_until(leader, b"Which way?", seen, 30), seen[-400:]
        proc.send_signal(sig)
        assert read_until(leader, LEAVE_ALT, seen, 20), seen[-400:]
        assert proc.wait(timeout=20) == 128 + sig
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(leader)
    assert b"Traceback" not in seen

"""Sampling profiles of the accord relay while a figure runs (``--profile DIR``, uses py-spy).

py-spy attaches to the relay subprocess from outside, so the relay runs
unmodified. The raw collapsed stacks are kept in ``DIR``; ``summary`` turns
them into the top functions by own time and by time including callees.
"""

from __future__ import annotations

import collections
import shutil
import signal
import subprocess
import sys
from pathlib import Path


def py_spy() -> str | None:
    """The py-spy executable next to this interpreter or on PATH, if installed."""
    here = Path(sys.executable).with_name("py-spy")
    if here.exists():
        return str(here)
    return shutil.which("py-spy")


class Profiler:
    """A py-spy recording of one process, written as collapsed stacks to ``path``."""

    def __init__(self, pid: int, path: Path, rate: int = 200) -> None:
        self.path = path
        exe = py_spy()
        self.proc: subprocess.Popen[bytes] | None = None
        if exe is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        args = ["record", "-p", str(pid), "-o", str(path), "-f", "raw", "-r", str(rate)]
        self.proc = subprocess.Popen(
            [exe, *args, "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> str:
        """Stop recording (py-spy writes its file on SIGINT) and return a summary."""
        if self.proc is None:
            return "py-spy is not installed; no profile"
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return summary(self.path)


def summary(path: Path, top: int = 25) -> str:
    """The hottest frames in a collapsed-stack file, by own and by inclusive samples."""
    if not path.exists():
        return f"no profile written to {path}"
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return f"{path}: no samples"
    lines = [f"{path}: {total} samples", "  own time:"]
    lines += [f"    {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines.append("  including callees:")
    lines += [f"    {100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    return "\n".join(lines)

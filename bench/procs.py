"""Relay subprocesses on 127.0.0.1 and what /proc says about them (CPU time, RSS).

Linux only: CPU and memory come straight from ``/proc/<pid>/stat`` and
``/proc/<pid>/status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
_TICKS = os.sysconf("SC_CLK_TCK")


def raise_fd_limit(want: int = 16384) -> int:
    """Raise this process's open-file soft limit (children inherit it); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(want, hard) if hard != resource.RLIM_INFINITY else want
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_bytes(pid: int) -> int:
    """The process's resident set size, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def accord_command() -> list[str]:
    """How to run the ``accord`` console script with this interpreter."""
    script = Path(sys.executable).with_name("accord")
    if script.exists():
        return [str(script)]
    found = shutil.which("accord")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from accord.tui.cli import main; sys.exit(main())"]


#: The accord relay settings the bench uses: every load comes from one address and
#: a sender runs far above a person's pace, so the abuse limits are lifted.
BENCH_SETTINGS: dict[str, Any] = {
    "max_connections": 20000,
    "max_connections_per_ip": 20000,
    "max_members": 1000,
    "max_sessions": 100000,
    "rate_limit": 1000000.0,
    "rate_burst": 1000000,
    "creates_per_minute": 1000000.0,
    "create_burst": 1000000,
    "snapshots_per_minute": 1000000.0,
    "snapshot_burst": 1000000,
    "max_session_events": 100000000,
}


def write_toml(path: Path, settings: dict[str, Any]) -> None:
    """Write flat ``key = value`` settings as a TOML file."""
    lines = []
    for key, value in settings.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = repr(value)
        elif isinstance(value, list):
            text = json.dumps([str(v) for v in value])
        else:
            text = json.dumps(str(value))
        lines.append(f"{key} = {text}")
    path.write_text("\n".join(lines) + "\n")


@dataclass
class Relay:
    """A relay subprocess: the raw baseline or ``accord serve`` on a fixed port."""

    kind: str  # "raw" or "accord"
    port: int = 0
    data_dir: Path | None = None
    settings: dict[str, Any] = field(default_factory=lambda: dict(BENCH_SETTINGS))
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _own_dir: tempfile.TemporaryDirectory[str] | None = None
    _log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        """The running process id."""
        assert self.proc is not None, "the relay is not running"
        return self.proc.pid

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:port``."""
        return f"ws://{HOST}:{self.port}"

    def command(self) -> list[str]:
        """The command line that starts this relay."""
        if self.kind == "raw":
            return [sys.executable, "-m", "bench.baseline", "--port", str(self.port)]
        assert self.data_dir is not None
        config = self.data_dir.parent / f"{self.data_dir.name}.toml"
        write_toml(config, self.settings)
        where = ["--port", str(self.port), "--data-dir", str(self.data_dir)]
        return [*accord_command(), "serve", "--host", HOST, *where, "--config", str(config)]

    async def start(self, timeout: float = 20.0) -> None:
        """Start (or restart, on the same port and data dir) and wait until it accepts.

        Raises:
            RuntimeError: if the process exits or does not listen in time.
        """
        if self.kind == "accord" and self.data_dir is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="accord-bench-")
            self.data_dir = Path(self._own_dir.name) / "data"
        if not self.port:
            self.port = free_port()
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix=f"relay-{self.kind}-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env} if self.env else None,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} relay exited: {self.log_tail()}")
            try:
                _, writer = await asyncio.open_connection(HOST, self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        self.kill()
        raise RuntimeError(f"{self.kind} relay did not listen on {self.port}: {self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the relay's combined stdout and stderr."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-chars:]

    def kill(self) -> None:
        """SIGKILL the relay at once (its data dir stays)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._close_log()

    async def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it lingers. Returns the exit code."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        self._close_log()
        return proc.returncode

    def cleanup(self) -> None:
        """Kill if still running, then remove the temporary data dir and log."""
        self.kill()
        if self._own_dir is not None:
            self._own_dir.cleanup()
            self._own_dir = None
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


class CpuMeter:
    """CPU% of one process (or the sum of several) over an interval (100% = one core)."""

    def __init__(self, pid: int, *more: int) -> None:
        self.pids = (pid, *more)
        self.t0 = time.perf_counter()
        self.c0 = sum(cpu_seconds(p) for p in self.pids)

    def percent(self) -> float:
        """CPU% since this meter was made."""
        wall = time.perf_counter() - self.t0
        used = sum(cpu_seconds(p) for p in self.pids) - self.c0
        return 100.0 * used / wall if wall > 0 else 0.0


class RedisProc:
    """A redis-server for the Redis variant: loopback, a free port, append-only, fsync always."""

    def __init__(self) -> None:
        self.port = free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="accord-bench-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Database 0 on it."""
        return f"redis://{HOST}:{self.port}/0"

    @property
    def ballot_key(self) -> Path:
        """A ballot key file for every relay on this server (they must share one)."""
        return Path(self._dir.name) / "ballot.key"

    @property
    def pid(self) -> int:
        """The running process id."""
        assert self.proc is not None, "redis-server is not running"
        return self.proc.pid

    async def start(self, timeout: float = 10.0) -> None:
        """Start it and wait until it answers PING.

        Raises:
            RuntimeError: if there is no redis-server or it does not come up.
        """
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found (apt-get install redis-server)")
        args = ["--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "yes"]
        args += ["--appendfsync", "always", "--dir", self._dir.name]
        self.proc = subprocess.Popen(
            [binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection(HOST, self.port)
                writer.write(b"PING\r\n")
                answer = await reader.readline()
                writer.close()
                if answer.startswith(b"+PONG"):
                    return
            await asyncio.sleep(0.05)
        raise RuntimeError("redis-server did not come up")

    def stop(self) -> None:
        """Stop it and remove its data."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self._dir.cleanup()

"""Client-side figures: the cost of one event on a big board, and time to a ready board.

The big board is built with the real rules and reducer: 40 members, 300
needs (15 settled as criteria), 12 options and an open score vote in which
every member has scored every cell.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import tempfile
import termios
import time
from pathlib import Path
from typing import Any

from .report import Row
from .stats import median, percentile

Log = Any  # Callable[[str], None]; kept loose to avoid an import cycle with figures

MEMBERS = 40
NEEDS = 300
OPTIONS = 12  # including the "no change" baseline
CRITERIA = 15
#: The word the cold-start figure looks for on screen (the session's question).
QUESTION_WORD = b"Zanzibar"


def big_board() -> tuple[Any, str, str, list[str]]:
    """The session, the open score vote's id, a voter's id and the score keys.

    Raises:
        accord.protocol.errors.Refusal: if the rules refuse a step (a bench bug).
    """
    from accord.protocol import commands as C
    from accord.protocol import events as E
    from accord.protocol import rules
    from accord.protocol.model import new_session
    from accord.protocol.reducer import apply_event

    now = time.time()
    session = new_session("s1", "Which way should we go?", now)
    seq = 0

    def emit(by: str, body: Any, op: str = "") -> None:
        nonlocal seq
        seq += 1
        apply_event(session, E.Event(seq=seq, at=now, by=by, body=body, op=op))

    emit("", rules.create_session(session.question, now))
    emit("", rules.join(session, "Facilitator", "facilitator", "Ops", now))
    fac = next(iter(session.members))
    for i in range(MEMBERS - 1):
        emit("", rules.join(session, f"Member {i + 1}", "participant", f"Dept {i % 6}", now))

    def do(by: str, cmd: Any) -> None:
        for body in rules.decide(session, by, cmd, now):
            emit(by, body)

    for i in range(NEEDS):
        do(fac, C.AddNeed(text=f"Need number {i + 1}: something the group said matters", why="why"))
    need_ids = list(session.needs)
    for i, need_id in enumerate(need_ids[:CRITERIA]):
        do(fac, C.SettleNeed(need_id=need_id, cls="must" if i < 5 else "optional"))
    do(fac, C.SetPhase(phase="options"))
    for i in range(OPTIONS - 1):
        do(fac, C.AddOption(kind="internal", title=f"Option {i + 1}", description="an option"))
    do(fac, C.OpenVote(kind="score", hidden=False))
    vote_id = next(iter(session.votes))
    gates = {c.need_id: c.gate for c in _criteria(session)}
    keys = [f"{o}:{n}" for o in session.options for n in gates]
    members = list(session.members)
    for m, member_id in enumerate(members):
        marks = {k: (m + j) % (2 if gates[k.split(":")[1]] else 6) for j, k in enumerate(keys)}
        do(member_id, C.Cast(vote_id=vote_id, marks=marks))
    return session, vote_id, members[1], keys


def _cast_event(session: Any, vote_id: str, voter: str, keys: list[str], n: int) -> Any:
    from accord.protocol import commands as C
    from accord.protocol import rules
    from accord.protocol.events import Event

    key = keys[n % len(keys)]
    gate = key.split(":")[1] in {c.need_id for c in _criteria(session) if c.gate}
    value = n % 2 if gate else n % 6
    (body,) = rules.decide(session, voter, C.Cast(vote_id=vote_id, marks={key: value}), time.time())
    return Event(seq=session.seq + 1, at=time.time(), by=voter, body=body)


class StillClient:
    """A client showing a fixed session (welcomed through the real ``ClientState``), no network.

    It implements ``accord.client.Client``; the figure applies events to the session itself.
    """

    url = "bench"

    def __init__(self, session: Any, member_id: str) -> None:
        from accord.client import ClientState, ConnectionFailed, LinkState
        from accord.protocol.messages import Hello, Welcome

        self.state = ClientState(Hello(token="bench"))
        welcome = Welcome(
            session_id=session.id,
            member_id=member_id,
            role=session.members[member_id].role,
            epoch="bench",
            seq=session.seq,
            mode="snapshot",
            snapshot=session,
            online=sorted(session.members),
        )
        self.state.take_welcome(welcome, time.time())
        self.link = LinkState("connected")
        self.failure: ConnectionFailed | None = None
        self.session, self.member_id, self.role = session, member_id, self.state.role
        self.secrets, self.online, self.outbox = None, self.state.online, self.state.outbox

    def now(self) -> float:
        """The wall clock."""
        return time.time()

    def submit(self, command: Any) -> Any:
        """Nothing is sent in the figure."""
        raise AssertionError("the bench board sends nothing")

    def add_listener(self, listener: Any) -> Any:
        """No updates come: the figure applies events itself."""
        return lambda: None

    async def finished(self) -> None:
        """Nothing runs."""

    async def restart(self) -> None:
        """Nothing to restart."""


def _criteria(session: Any) -> Any:
    from accord.protocol.results import criteria

    return criteria(session)


async def apply_render(scale: Any, log: Log) -> list[Row]:
    """Apply one ballot event to the big board, then re-render the TUI's board screen."""
    from accord.protocol.reducer import apply_event

    session, vote_id, voter, keys = big_board()
    apply_only: list[float] = []
    for n in range(scale.render_runs):
        event = _cast_event(session, vote_id, voter, keys, n)
        t = time.perf_counter()
        apply_event(session, event)
        apply_only.append(time.perf_counter() - t)
    render, redraw = await _widget_render(session, vote_id, voter, keys, scale.render_runs)
    log(
        f"  apply p50 {median(apply_only) * 1e3:.3f} ms; apply + redraw + repaint CPU p50"
        f" {median(render) * 1e3:.1f} ms (redraw() alone p50 {median(redraw) * 1e3:.1f} ms)"
    )
    board = f"{NEEDS} needs, {OPTIONS} options x {CRITERIA} criteria, {MEMBERS} members"
    return [
        Row(
            "client: apply one event + re-render, p50",
            "ms",
            median(render) * 1e3,
        ),
        Row(
            "client: apply one event + re-render, p99",
            "ms",
            percentile(render, 99) * 1e3,
            target="<= 16 ms",
            limit=16,
            note=f"{board}; CPU time, Options panel, 160x50 headless Textual; apply_event alone"
            f" p99 {percentile(apply_only, 99) * 1e3:.3f} ms, BoardScreen.redraw() alone p99"
            f" {percentile(redraw, 99) * 1e3:.1f} ms",
        ),
    ]


async def _widget_render(
    session: Any, vote_id: str, voter: str, keys: list[str], runs: int
) -> tuple[list[float], list[float]]:
    """Per event: the CPU time to apply it, ``BoardScreen.redraw()`` and let Textual repaint.

    Textual paints on its own schedule, so each step waits with ``pilot.pause()``
    (until the app is idle) and counts CPU time, not wall time; the CPU a bare
    ``pause()`` costs with nothing to draw is measured first and subtracted.
    """
    from accord.protocol.reducer import apply_event
    from accord.tui.app import AccordApp

    conn = StillClient(session, voter)
    now = time.time()
    app = AccordApp(conn, clock=lambda: now, cursor_blink=False)
    total: list[float] = []
    redraw: list[float] = []
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        idle = []
        for _ in range(10):
            c = time.process_time()
            await pilot.pause()
            idle.append(time.process_time() - c)
        floor = median(idle)
        for n in range(runs + 3):
            event = _cast_event(session, vote_id, voter, keys, n)
            c = time.process_time()
            apply_event(session, event)
            t1 = time.perf_counter()
            app.board.redraw()
            t2 = time.perf_counter()
            await pilot.pause()
            spent = time.process_time() - c - floor
            if n >= 3:  # the first renders warm caches
                total.append(spent)
                redraw.append(t2 - t1)
    return total, redraw


async def board_ready(scale: Any, log: Log) -> list[Row]:
    """Wall time from starting ``accord join CODE`` in a terminal to the board on screen.

    The CLI runs in a pseudo-terminal (160x50) against a bench relay; the board
    counts as ready when the session's question appears in what it draws.
    """
    from .load import AccordFlavour
    from .procs import Relay

    relay = Relay("accord")
    times: list[float] = []
    try:
        await relay.start()
        flavour = AccordFlavour(relay)
        group = await flavour.open_group(1)
        code = group.secrets["participant_code"]
        with tempfile.TemporaryDirectory(prefix="accord-cold-") as home:
            (Path(home) / "config.toml").write_text('name = "Bench"\n')
            for _ in range(scale.cold_runs):
                took = await asyncio.to_thread(_time_join, relay.url, code, home)
                times.append(took)
        await group.close()
    finally:
        await relay.stop()
        relay.cleanup()
    log(f"  accord join -> board: {[round(t * 1000) for t in times]} ms")
    ok = [t for t in times if t == t]
    return [
        Row(
            "cold start: accord join -> board ready",
            "ms",
            median(ok) * 1000 if ok else float("nan"),
            note=f"{len(ok)}/{len(times)} runs drew the board within 30 s"
            if len(ok) < len(times)
            else "",
        )
    ]


_ANSI = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


def _time_join(url: str, code: str, home: str, timeout: float = 30.0) -> float:
    """Run ``accord join`` in a pty until the question shows; NaN if it never does."""
    from .procs import accord_command

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "ACCORD_CONFIG_DIR": home}
    env["ACCORD_DATA_DIR"] = home
    t = time.perf_counter()
    proc = subprocess.Popen(
        [*accord_command(), "join", code, "--server", url],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    found = float("nan")
    try:
        deadline = t + timeout
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                seen = (seen + chunk)[-200000:]
                if QUESTION_WORD in _ANSI.sub(b"", seen):
                    found = time.perf_counter() - t
                    break
            elif proc.poll() is not None:
                break
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        os.close(master)
    return found

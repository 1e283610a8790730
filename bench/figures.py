"""The figures of the bench: each starts fresh relays, drives them and returns table rows.

Every load figure runs against the raw baseline and a real accord relay at
the same time (both subprocesses up, rounds interleaved), so both see the
same machine noise; the value shown is the median over rounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from .load import Flavour, Group, Tracker, flavour_for
from .procs import CpuMeter, Relay, accord_command, rss_bytes
from .profile import Profiler
from .report import Row
from .stats import median, percentile

Log = Callable[[str], None]
NAN = math.nan


@dataclass(frozen=True)
class Scale:
    """How long and how often each figure runs."""

    rounds: int
    fanout_seconds: float
    fanout_rate: float
    sessions: int
    session_members: int
    session_rate: float
    session_seconds: float
    throughput_groups: int
    throughput_window: int
    throughput_seconds: float
    idle_groups: int
    idle_group_size: int
    resume_repeats: int
    resume_missed: int
    storm_groups: int
    cold_runs: int
    render_runs: int


QUICK = Scale(
    rounds=3,
    fanout_seconds=2.0,
    fanout_rate=50.0,
    sessions=100,
    session_members=20,
    session_rate=5.0,
    session_seconds=2.0,
    throughput_groups=8,
    throughput_window=8,
    throughput_seconds=2.0,
    idle_groups=20,
    idle_group_size=50,
    resume_repeats=10,
    resume_missed=100,
    storm_groups=10,
    cold_runs=3,
    render_runs=30,
)

FULL = Scale(
    rounds=5,
    fanout_seconds=6.0,
    fanout_rate=50.0,
    sessions=100,
    session_members=20,
    session_rate=5.0,
    session_seconds=6.0,
    throughput_groups=8,
    throughput_window=8,
    throughput_seconds=5.0,
    idle_groups=20,
    idle_group_size=50,
    resume_repeats=40,
    resume_missed=100,
    storm_groups=10,
    cold_runs=7,
    render_runs=200,
)


#: The load generator's own CPU% in each closed-loop round (it shares the 2 cores).
LOADGEN_CPU: list[float] = []
#: Which relays the figures drive; ``--raw-only`` drops accord (to check the machine).
KINDS: list[str] = ["raw", "accord"]
#: ``--profile DIR``: record the accord relay with py-spy during each figure.
PROFILE: dict[str, Path] = {}


@contextlib.asynccontextmanager
async def relays(log: Log, figure: str = "figure") -> AsyncIterator[tuple[Flavour, ...]]:
    """A fresh raw baseline and a fresh accord relay (new temp data dir), both running."""
    started = [Relay(kind) for kind in KINDS]
    profiler: Profiler | None = None
    try:
        for relay in started:
            await relay.start()
            if relay.kind == "accord" and "dir" in PROFILE:
                profiler = Profiler(relay.pid, PROFILE["dir"] / f"{figure}.stacks")
        log("  relays up: " + ", ".join(f"{r.kind} pid {r.pid} port {r.port}" for r in started))
        yield tuple(flavour_for(r) for r in started)
    finally:
        if profiler is not None:
            text = profiler.stop()
            (PROFILE["dir"] / f"{figure}.summary.txt").write_text(text + "\n")
            log("\n".join(text.splitlines()[:18]))
        for relay in started:
            await relay.stop()
            relay.cleanup()


async def _settle() -> None:
    gc.collect()
    await asyncio.sleep(0.3)


async def _drain(groups: list[Group], timeout: float) -> None:
    """Wait until every acked seq has reached every receiver of its group (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = all(
            g.tracker.count.get(seq, 0) >= len(g.members)
            for g in groups
            for seq in g.sender.sent_at
        )
        if done and all(not g.sender.pending for g in groups):
            return
        await asyncio.sleep(0.02)


@dataclass
class LatencyRound:
    """One open-loop round: latencies (s), server CPU% and commands lost."""

    latencies: list[float]
    cpu: float
    lost: int


async def open_loop(
    flavour: Flavour, groups: list[Group], rate: float, seconds: float
) -> LatencyRound:
    """Each group's sender sends ``rate`` commands/s for ``seconds``, spread evenly.

    Latency is a command's send -> its receipt by the group's last receiver.
    """
    for g in groups:
        g.tracker.reset()
        g.sender.sent_at.clear()
    per_group = max(1, int(rate * seconds))
    count = len(groups)
    futures: list[asyncio.Future[int]] = []
    await _settle()
    meter = CpuMeter(flavour.relay.pid)
    t0 = time.perf_counter() + 0.05
    for k in range(per_group):
        for i, g in enumerate(groups):
            wait = t0 + (k + i / count) / rate - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            futures.append(await g.sender.send())
    await asyncio.wait(futures, timeout=15)
    cpu = meter.percent()
    await _drain(groups, 15)
    latencies: list[float] = []
    lost = sum(1 for f in futures if not f.done() or f.cancelled() or f.exception() is not None)
    for g in groups:
        need = len(g.members)
        for seq, sent in g.sender.sent_at.items():
            if g.tracker.count.get(seq, 0) >= need:
                latencies.append(g.tracker.last[seq] - sent)
            else:
                lost += 1
    return LatencyRound(latencies, cpu, lost)


async def _open_groups(
    flavour: Flavour, count: int, size: int, log: Log, **kw: bool
) -> list[Group]:
    t = time.perf_counter()
    gate = asyncio.Semaphore(10)

    async def one() -> Group:
        async with gate:
            return await flavour.open_group(size, Tracker(**kw))

    groups = await asyncio.gather(*(one() for _ in range(count)))
    log(f"  {flavour.name}: {count} x {size} members ready in {time.perf_counter() - t:.1f}s")
    return list(groups)


async def _close_groups(groups: list[Group]) -> None:
    await asyncio.gather(*(g.close() for g in groups), return_exceptions=True)


def _ms(x: float) -> float:
    return x * 1000.0


async def _interleaved(
    pair: tuple[Flavour, ...],
    rounds: int,
    run: Callable[[Flavour], Awaitable[LatencyRound]],
    log: Log,
) -> dict[str, list[LatencyRound]]:
    results: dict[str, list[LatencyRound]] = {f.name: [] for f in pair}
    for r in range(rounds):
        order = pair if r % 2 == 0 else pair[::-1]
        for f in order:
            res = await run(f)
            results[f.name].append(res)
            log(
                f"  round {r + 1} {f.name}: p50 {_ms(percentile(res.latencies, 50)):.2f} ms"
                f" p99 {_ms(percentile(res.latencies, 99)):.2f} ms cpu {res.cpu:.0f}%"
                f" lost {res.lost}"
            )
    return results


def _latency_rows(
    label: str, results: dict[str, list[LatencyRound]], cpu_row: bool = False
) -> list[Row]:
    def stat(name: str, q: float) -> float:
        return median([_ms(percentile(r.latencies, q)) for r in results.get(name, [])])

    lost = {name: sum(r.lost for r in rs) for name, rs in results.items()}
    note = ", ".join(f"{k} lost {v}" for k, v in lost.items() if v)
    rows = [
        Row(f"{label} p50", "ms", stat("accord", 50), stat("raw", 50)),
        Row(
            f"{label} p99",
            "ms",
            stat("accord", 99),
            stat("raw", 99),
            target="<= 1.3x raw",
            limit=1.3,
            relative=True,
            note=note,
        ),
    ]
    cpu = {name: median([r.cpu for r in rs]) for name, rs in results.items()}
    rows.append(Row(f"{label} server CPU", "%", cpu.get("accord", NAN), cpu.get("raw", NAN)))
    if not cpu_row:
        rows.pop()
    return rows


# ---- figures ------------------------------------------------------------------


async def fanout(scale: Scale, members: int, log: Log) -> list[Row]:
    """Fan-out latency with ``members`` in one session at 50 commands/s (open loop)."""
    async with relays(log, f"fanout{members}") as pair:
        groups = {f.name: await _open_groups(f, 1, members, log) for f in pair}

        async def run(f: Flavour) -> LatencyRound:
            return await open_loop(f, groups[f.name], scale.fanout_rate, scale.fanout_seconds)

        results = await _interleaved(pair, scale.rounds, run, log)
        for gs in groups.values():
            await _close_groups(gs)
    return _latency_rows(f"fan-out {members} members", results, cpu_row=True)


async def sessions(scale: Scale, log: Log) -> list[Row]:
    """Many sessions at once: each sender at ``session_rate`` commands/s."""
    async with relays(log, "sessions") as pair:
        groups = {
            f.name: await _open_groups(f, scale.sessions, scale.session_members, log) for f in pair
        }

        async def run(f: Flavour) -> LatencyRound:
            rate = scale.session_rate
            return await open_loop(f, groups[f.name], rate, scale.session_seconds)

        results = await _interleaved(pair, scale.rounds, run, log)
        for gs in groups.values():
            await _close_groups(gs)
    label = f"{scale.sessions} sessions x {scale.session_members}"
    return _latency_rows(label, results, cpu_row=True)


async def _closed_loop(
    flavour: Flavour, groups: list[Group], window: int, seconds: float
) -> tuple[float, float, float]:
    """Each sender keeps ``window`` commands in flight; returns (commands/s, deliveries/s, CPU%)."""
    warmup = 0.5
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    acked = [0]
    marks: dict[str, float] = {}

    async def pump(g: Group) -> None:
        inflight: set[asyncio.Future[int]] = set()
        while time.perf_counter() < stop_at:
            while len(inflight) < window:
                inflight.add(await g.sender.send())
            done, inflight = await asyncio.wait(
                inflight, timeout=10, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                raise RuntimeError("no ack within 10 s")
            now = time.perf_counter()
            if measure_from <= now < stop_at:
                acked[0] += sum(1 for f in done if f.exception() is None)
        if inflight:
            await asyncio.wait(inflight, timeout=10)

    async def sample() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        marks["frames0"] = sum(g.tracker.frames for g in groups)
        meter = CpuMeter(flavour.relay.pid)
        own = CpuMeter(os.getpid())
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        marks["frames1"] = sum(g.tracker.frames for g in groups)
        marks["cpu"] = meter.percent()
        marks["loadgen"] = own.percent()

    await _settle()
    await asyncio.gather(sample(), *(pump(g) for g in groups))
    commands = acked[0] / seconds
    deliveries = (marks["frames1"] - marks["frames0"]) / seconds + commands
    LOADGEN_CPU.append(marks["loadgen"])
    return commands, deliveries, marks["cpu"]


async def throughput(scale: Scale, log: Log) -> list[Row]:
    """Sustained acknowledged commands/s into 10-member sessions, and the deliveries/s."""
    async with relays(log, "throughput") as pair:
        groups = {
            f.name: await _open_groups(f, scale.throughput_groups, 10, log, count_only=True)
            for f in pair
        }
        res: dict[str, list[tuple[float, float, float]]] = {f.name: [] for f in pair}
        for r in range(scale.rounds):
            for f in pair if r % 2 == 0 else pair[::-1]:
                out = await _closed_loop(
                    f, groups[f.name], scale.throughput_window, scale.throughput_seconds
                )
                res[f.name].append(out)
                log(
                    f"  round {r + 1} {f.name}: {out[0]:,.0f} cmds/s,"
                    f" {out[1]:,.0f} deliveries/s, cpu {out[2]:.0f}%"
                    f" (load generator {LOADGEN_CPU[-1]:.0f}%)"
                )
        for gs in groups.values():
            await _close_groups(gs)

    def col(name: str, i: int) -> float:
        return median([x[i] for x in res.get(name, [])])

    inflight = scale.throughput_groups * scale.throughput_window
    per = {
        name: median([10_000 * cpu / cmds for cmds, _, cpu in rounds if cmds])
        for name, rounds in res.items()
    }
    cost = ", ".join(f"{name} {us:.0f}" for name, us in per.items())
    note = (
        f"{scale.throughput_groups} sessions, {inflight} commands in flight;"
        f" server CPU per command (us): {cost}"
    )
    return [
        Row(
            "durable commands/s (10-member sessions)",
            "cmd/s",
            col("accord", 0),
            col("raw", 0),
            target=">= 3,000",
            limit=3000,
            higher=True,
            note=note,
        ),
        Row(
            "deliveries/s at that load",
            "msg/s",
            col("accord", 1),
            col("raw", 1),
            target=">= 0.7x raw",
            limit=0.7,
            relative=True,
            higher=True,
        ),
        Row("server CPU at that load", "%", col("accord", 2), col("raw", 2)),
    ]


async def memory(scale: Scale, log: Log) -> list[Row]:
    """Server RSS growth per connection with idle members joined to sessions."""
    per_conn: dict[str, float] = {}
    total = scale.idle_groups * scale.idle_group_size
    async with relays(log, "memory") as pair:
        for f in pair:
            warm = await _open_groups(f, 2, 5, log)
            for g in warm:
                for _ in range(5):
                    await asyncio.wait_for(await g.sender.send(), 10)
            await _close_groups(warm)
            await asyncio.sleep(0.5)
            before = rss_bytes(f.relay.pid)
            groups = await _open_groups(f, scale.idle_groups, scale.idle_group_size, log)
            await asyncio.sleep(1.0)
            after = rss_bytes(f.relay.pid)
            per_conn[f.name] = (after - before) / total / 1024
            log(f"  {f.name}: RSS {before / 2**20:.1f} -> {after / 2**20:.1f} MiB")
            await _close_groups(groups)
    note = (
        f"{scale.idle_groups} sessions x {scale.idle_group_size} idle members, app state included"
    )
    return [
        Row(
            f"memory per connection ({total} idle)",
            "KiB",
            per_conn.get("accord", NAN),
            per_conn.get("raw", NAN),
            target="<= 32 KiB",
            limit=32,
            note=note,
        )
    ]


async def _missed(group: Group, count: int) -> int:
    """Send ``count`` commands (up to 32 in flight) and return the last acked seq."""
    last = 0
    for start in range(0, count, 32):
        futs = [await group.sender.send() for _ in range(min(32, count - start))]
        async with asyncio.timeout(30):
            seqs = await asyncio.gather(*futs)
        last = max(last, *seqs)
    return last


async def resume(scale: Scale, log: Log) -> list[Row]:
    """Resume: one member missing events; a whole session at once; a storm of clients."""
    single: dict[str, list[float]] = {}
    whole: dict[str, list[float]] = {}
    storm: dict[str, list[float]] = {}
    async with relays(log, "resume") as pair:
        for f in pair:
            (g,) = await _open_groups(f, 1, 10, log)
            times = []
            member = g.members[0]
            for _ in range(scale.resume_repeats):
                member.drop()
                await asyncio.sleep(0.02)
                target = await _missed(g, scale.resume_missed)
                await _settle()
                t = time.perf_counter()
                await member.resync(target)
                times.append(time.perf_counter() - t)
            single[f.name] = times
            await g.close()
            log(
                f"  {f.name}: single resume p50 {_ms(percentile(times, 50)):.2f} ms"
                f" p99 {_ms(percentile(times, 99)):.2f} ms"
            )

        async def reconnect_all(f: Flavour, groups: list[Group]) -> float:
            for g in groups:
                for m in g.members:
                    m.drop()
            await asyncio.sleep(0.1)
            targets = await asyncio.gather(*(_missed(g, 20) for g in groups))
            await _settle()
            t = time.perf_counter()
            await asyncio.gather(
                *(
                    m.resync(target)
                    for g, target in zip(groups, targets, strict=True)
                    for m in g.members
                )
            )
            return time.perf_counter() - t

        for f in pair:
            groups = await _open_groups(f, 1, 51, log)
            whole[f.name] = [await reconnect_all(f, groups) for _ in range(scale.rounds)]
            await _close_groups(groups)
            groups = await _open_groups(f, scale.storm_groups, 51, log)
            storm[f.name] = [
                await reconnect_all(f, groups) for _ in range(max(1, scale.rounds - 1))
            ]
            await _close_groups(groups)
            log(f"  {f.name}: session {whole[f.name]} storm {storm[f.name]}")
    n_storm = scale.storm_groups * 50

    def p50(name: str) -> float:
        return _ms(percentile(single.get(name, []), 50))

    return [
        Row(
            f"resume one client, {scale.resume_missed} missed, p99",
            "ms",
            _ms(percentile(single.get("accord", []), 99)),
            _ms(percentile(single.get("raw", []), 99)),
            target="<= 50 ms",
            limit=50,
            note=f"{scale.resume_repeats} resumes; p50 accord {p50('accord'):.2f} ms,"
            f" raw {p50('raw'):.2f} ms",
        ),
        Row(
            "resume a 50-member session at once",
            "s",
            median(whole.get("accord", [])),
            median(whole.get("raw", [])),
            target="<= 0.5 s",
            limit=0.5,
        ),
        Row(
            f"resume storm, {n_storm} clients",
            "s",
            median(storm.get("accord", [])),
            median(storm.get("raw", [])),
            target="<= 2 s",
            limit=2.0,
        ),
    ]


def _wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=60
        )
        times.append(time.perf_counter() - t)
    return median(times)


async def cold_start(scale: Scale, log: Log) -> list[Row]:
    """``accord --help`` wall time, beside a bare interpreter start as the floor."""
    help_s = _wall([*accord_command(), "--help"], scale.cold_runs)
    floor = _wall([sys.executable, "-c", "pass"], scale.cold_runs)
    log(f"  accord --help {help_s * 1000:.0f} ms, python -c pass {floor * 1000:.0f} ms")
    rows = [
        Row(
            "cold start: accord --help",
            "ms",
            help_s * 1000,
            floor * 1000,
            note="raw column: `python -c pass`",
        )
    ]
    from . import client

    rows += await client.board_ready(scale, log)
    return rows


async def render(scale: Scale, log: Log) -> list[Row]:
    """Client cost of applying one event to a big board and re-rendering it."""
    from . import client

    return await client.apply_render(scale, log)


FIGURES: dict[str, Callable[[Scale, Log], Awaitable[list[Row]]]] = {
    "fanout50": lambda s, log: fanout(s, 50, log),
    "fanout500": lambda s, log: fanout(s, 500, log),
    "sessions": sessions,
    "throughput": throughput,
    "memory": memory,
    "resume": resume,
    "cold": cold_start,
    "client": render,
}

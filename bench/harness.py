"""What every figure of the bench stands on: scales, paired relays, latency rounds.

Every load figure runs against the raw baseline and a real accord relay at
the same time (both subprocesses up, rounds interleaved), so both see the
same machine noise; the value shown is the median over rounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from .load import AccordFlavour, Flavour, Group, Tracker, flavour_for
from .procs import CpuMeter, RedisProc, Relay
from .profile import Profiler
from .report import Row
from .stages import scrape, summary
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


#: The accord variants ``--stores`` adds: SQLite process mode, Redis across two relays.
STORE_KINDS = ["accord-process", "accord-redis"]


@contextlib.asynccontextmanager
async def relays(log: Log, figure: str = "figure") -> AsyncIterator[tuple[Flavour, ...]]:
    """A fresh raw baseline and fresh accord relays (new temp data dirs), all running.

    ``accord`` is SQLite with the default durability (disk); ``accord-process``
    the same with ``durability = "process"``; ``accord-redis`` two relays on one
    redis-server, members split between them.
    """
    started: list[Relay] = []
    flavours: list[Flavour] = []
    redis: RedisProc | None = None
    profiler: Profiler | None = None
    try:
        for kind in KINDS:
            if kind == "raw":
                relay = Relay("raw")
                await relay.start()
                started.append(relay)
                flavours.append(flavour_for(relay))
            elif kind == "accord-redis":
                redis = RedisProc()
                await redis.start()
                pair = [Relay("accord") for _ in range(2)]
                for relay in pair:
                    relay.settings["store"] = redis.url
                    relay.settings["ballot_key_file"] = str(redis.ballot_key)
                    await relay.start()
                    started.append(relay)
                flavour = AccordFlavour(pair[0], pair[1:], name=kind)
                flavour.helpers = [redis.pid]
                flavours.append(flavour)
            else:
                relay = Relay("accord")
                if kind == "accord-process":
                    relay.settings["durability"] = "process"
                await relay.start()
                started.append(relay)
                flavours.append(AccordFlavour(relay, name=kind))
                if kind == "accord" and "dir" in PROFILE:
                    profiler = Profiler(relay.pid, PROFILE["dir"] / f"{figure}.stacks")
        log("  relays up: " + ", ".join(f"{f.name} pids {f.pids}" for f in flavours))
        yield tuple(flavours)
    finally:
        for each in flavours:
            if isinstance(each, AccordFlavour):
                with contextlib.suppress(OSError):
                    for relay in each.relays:
                        log(f"  stages {each.name}: {summary(await scrape(relay.port))}")
        if profiler is not None:
            text = profiler.stop()
            (PROFILE["dir"] / f"{figure}.summary.txt").write_text(text + "\n")
            log("\n".join(text.splitlines()[:18]))
        for relay in started:
            await relay.stop()
            relay.cleanup()
        if redis is not None:
            redis.stop()


async def settle() -> None:
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
    helper_cpu: float = 0.0  # redis-server's CPU%, for the Redis variant


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
    await settle()
    meter = CpuMeter(*flavour.pids)
    helpers = CpuMeter(*flavour.helpers) if flavour.helpers else None
    t0 = time.perf_counter() + 0.05
    for k in range(per_group):
        for i, g in enumerate(groups):
            wait = t0 + (k + i / count) / rate - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            futures.append(await g.sender.send())
    await asyncio.wait(futures, timeout=15)
    cpu = meter.percent()
    helper_cpu = helpers.percent() if helpers is not None else 0.0
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
    return LatencyRound(latencies, cpu, lost, helper_cpu)


async def open_groups(flavour: Flavour, count: int, size: int, log: Log, **kw: bool) -> list[Group]:
    t = time.perf_counter()
    gate = asyncio.Semaphore(10)

    async def one() -> Group:
        async with gate:
            return await flavour.open_group(size, Tracker(**kw))

    groups = await asyncio.gather(*(one() for _ in range(count)))
    log(f"  {flavour.name}: {count} x {size} members ready in {time.perf_counter() - t:.1f}s")
    return list(groups)


async def close_groups(groups: list[Group]) -> None:
    await asyncio.gather(*(g.close() for g in groups), return_exceptions=True)


def ms(x: float) -> float:
    return x * 1000.0


async def interleaved(
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
                f"  round {r + 1} {f.name}: p50 {ms(percentile(res.latencies, 50)):.2f} ms"
                f" p99 {ms(percentile(res.latencies, 99)):.2f} ms cpu {res.cpu:.0f}%"
                f" lost {res.lost}"
            )
    return results


def latency_rows(
    label: str, results: dict[str, list[LatencyRound]], cpu_row: bool = False
) -> list[Row]:
    def stat(name: str, q: float) -> float:
        return median([ms(percentile(r.latencies, q)) for r in results.get(name, [])])

    def worst(name: str) -> float:
        rounds = [ms(percentile(r.latencies, 99)) for r in results.get(name, [])]
        return max(rounds) if rounds else NAN

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
        Row(f"{label} p99 worst round", "ms", worst("accord"), worst("raw")),
    ]
    cpu = {name: median([r.cpu for r in rs]) for name, rs in results.items()}
    if cpu_row:
        rows.append(Row(f"{label} server CPU", "%", cpu.get("accord", NAN), cpu.get("raw", NAN)))
    for name in STORE_KINDS:
        if name not in results:
            continue
        tag = name.removeprefix("accord-")
        target = "<= 1.3x raw" if name == "accord-process" else "reported"
        limit = 1.3 if name == "accord-process" else None
        rows.append(
            Row(
                f"{label} p99 [{tag}]",
                "ms",
                stat(name, 99),
                stat("raw", 99),
                target=target,
                limit=limit,
                relative=True,
            )
        )
        rows.append(Row(f"{label} p99 worst round [{tag}]", "ms", worst(name), worst("raw")))
        if cpu_row:
            extra = ""
            helper = median([r.helper_cpu for r in results[name]])
            if helper:
                extra = f"; redis-server {helper:.1f}% on top"
            rows.append(
                Row(
                    f"{label} server CPU [{tag}]",
                    "%",
                    cpu[name],
                    cpu.get("raw", NAN),
                    note=f"relays together{extra}" if name == "accord-redis" else "",
                )
            )
    return rows

"""The figures of the bench: each starts fresh relays, drives them and returns table rows."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .harness import (
    LOADGEN_CPU,
    NAN,
    STORE_KINDS,
    LatencyRound,
    Log,
    Scale,
    close_groups,
    interleaved,
    latency_rows,
    ms,
    open_groups,
    open_loop,
    relays,
    settle,
)
from .load import Flavour, Group
from .procs import CpuMeter, accord_command, rss_bytes
from .report import Row
from .stats import median, percentile

#: redis-server's CPU per command (us) in each closed-loop round, by flavour.
HELPER_US: dict[str, list[float]] = {}

# ---- figures ------------------------------------------------------------------


async def fanout(scale: Scale, members: int, log: Log) -> list[Row]:
    """Fan-out latency with ``members`` in one session at 50 commands/s (open loop)."""
    async with relays(log, f"fanout{members}") as pair:
        groups = {f.name: await open_groups(f, 1, members, log) for f in pair}

        async def run(f: Flavour) -> LatencyRound:
            return await open_loop(f, groups[f.name], scale.fanout_rate, scale.fanout_seconds)

        results = await interleaved(pair, scale.rounds, run, log)
        for gs in groups.values():
            await close_groups(gs)
    return latency_rows(f"fan-out {members} members", results, cpu_row=True)


async def sessions(scale: Scale, log: Log) -> list[Row]:
    """Many sessions at once: each sender at ``session_rate`` commands/s."""
    async with relays(log, "sessions") as pair:
        groups = {
            f.name: await open_groups(f, scale.sessions, scale.session_members, log) for f in pair
        }

        async def run(f: Flavour) -> LatencyRound:
            rate = scale.session_rate
            return await open_loop(f, groups[f.name], rate, scale.session_seconds)

        results = await interleaved(pair, scale.rounds, run, log)
        for gs in groups.values():
            await close_groups(gs)
    label = f"{scale.sessions} sessions x {scale.session_members}"
    return latency_rows(label, results, cpu_row=True)


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
        meter = CpuMeter(*flavour.pids, *flavour.helpers)
        helpers = CpuMeter(*flavour.helpers) if flavour.helpers else None
        own = CpuMeter(os.getpid())
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        marks["frames1"] = sum(g.tracker.frames for g in groups)
        marks["cpu"] = meter.percent()
        marks["helpers"] = helpers.percent() if helpers is not None else 0.0
        marks["loadgen"] = own.percent()

    await settle()
    await asyncio.gather(sample(), *(pump(g) for g in groups))
    commands = acked[0] / seconds
    deliveries = (marks["frames1"] - marks["frames0"]) / seconds + commands
    LOADGEN_CPU.append(marks["loadgen"])
    if flavour.helpers and commands:
        HELPER_US.setdefault(flavour.name, []).append(10_000 * marks["helpers"] / commands)
    return commands, deliveries, marks["cpu"]


async def throughput(scale: Scale, log: Log) -> list[Row]:
    """Sustained acknowledged commands/s into 10-member sessions, and the deliveries/s."""
    async with relays(log, "throughput") as pair:
        groups = {
            f.name: await open_groups(f, scale.throughput_groups, 10, log, count_only=True)
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
            await close_groups(gs)

    def col(name: str, i: int) -> float:
        return median([x[i] for x in res.get(name, [])])

    inflight = scale.throughput_groups * scale.throughput_window
    per = {
        name: median([10_000 * cpu / cmds for cmds, _, cpu in rounds if cmds])
        for name, rounds in res.items()
    }
    cost = ", ".join(f"{name} {us:.0f}" for name, us in per.items())
    for name, rounds in HELPER_US.items():
        cost += f" (of which redis-server {median(rounds):.0f} for {name})"
    HELPER_US.clear()
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
        *_store_rows(res, col),
    ]


def _store_rows(res: dict[str, list[tuple[float, float, float]]], col: Any) -> list[Row]:
    """Throughput rows for the ``--stores`` variants (CPU includes redis-server)."""
    rows = []
    for name in STORE_KINDS:
        if name not in res:
            continue
        tag = name.removeprefix("accord-")
        rows += [
            Row(
                f"durable commands/s [{tag}]",
                "cmd/s",
                col(name, 0),
                col("raw", 0),
                target=">= 3,000",
                limit=3000,
                higher=True,
            ),
            Row(
                f"deliveries/s [{tag}]",
                "msg/s",
                col(name, 1),
                col("raw", 1),
                target=">= 0.7x raw",
                limit=0.7,
                relative=True,
                higher=True,
            ),
            Row(f"server CPU at that load [{tag}]", "%", col(name, 2), col("raw", 2)),
        ]
    return rows


async def memory(scale: Scale, log: Log) -> list[Row]:
    """Server RSS growth per connection with idle members joined to sessions."""
    per_conn: dict[str, float] = {}
    total = scale.idle_groups * scale.idle_group_size
    async with relays(log, "memory") as pair:
        for f in pair:
            warm = await open_groups(f, 2, 5, log)
            for g in warm:
                for _ in range(5):
                    await asyncio.wait_for(await g.sender.send(), 10)
            await close_groups(warm)
            await asyncio.sleep(0.5)
            before = rss_bytes(f.relay.pid)
            groups = await open_groups(f, scale.idle_groups, scale.idle_group_size, log)
            await asyncio.sleep(1.0)
            after = rss_bytes(f.relay.pid)
            per_conn[f.name] = (after - before) / total / 1024
            log(f"  {f.name}: RSS {before / 2**20:.1f} -> {after / 2**20:.1f} MiB")
            await close_groups(groups)
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
            (g,) = await open_groups(f, 1, 10, log)
            times = []
            member = g.members[0]
            for _ in range(scale.resume_repeats):
                member.drop()
                await asyncio.sleep(0.02)
                target = await _missed(g, scale.resume_missed)
                await settle()
                t = time.perf_counter()
                await member.resync(target)
                times.append(time.perf_counter() - t)
            single[f.name] = times
            await g.close()
            log(
                f"  {f.name}: single resume p50 {ms(percentile(times, 50)):.2f} ms"
                f" p99 {ms(percentile(times, 99)):.2f} ms"
            )

        async def reconnect_all(f: Flavour, groups: list[Group]) -> float:
            for g in groups:
                for m in g.members:
                    m.drop()
            await asyncio.sleep(0.1)
            targets = await asyncio.gather(*(_missed(g, 20) for g in groups))
            await settle()
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
            groups = await open_groups(f, 1, 51, log)
            whole[f.name] = [await reconnect_all(f, groups) for _ in range(scale.rounds)]
            await close_groups(groups)
            groups = await open_groups(f, scale.storm_groups, 51, log)
            storm[f.name] = [
                await reconnect_all(f, groups) for _ in range(max(1, scale.rounds - 1))
            ]
            await close_groups(groups)
            log(f"  {f.name}: session {whole[f.name]} storm {storm[f.name]}")
    n_storm = scale.storm_groups * 50

    def p50(name: str) -> float:
        return ms(percentile(single.get(name, []), 50))

    return [
        Row(
            f"resume one client, {scale.resume_missed} missed, p99",
            "ms",
            ms(percentile(single.get("accord", []), 99)),
            ms(percentile(single.get("raw", []), 99)),
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

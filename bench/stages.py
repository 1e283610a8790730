"""Where a command's time goes inside an accord relay, from its /metrics histograms.

Scraped when a figure ends (so it covers the joins too): the wait in the
session's queue, the wait for the group commit before it, the commit itself
and the fan-out, each as a mean and a p99 bound (the upper edge of the
histogram bucket that holds the 99th percentile).
"""

from __future__ import annotations

import asyncio
import math

from .procs import HOST

STAGES = {
    "accord_session_queue_seconds": "queue",
    "accord_storage_commit_wait_seconds": "commit wait",
    "accord_storage_commit_seconds": "commit",
    "accord_fanout_seconds": "fan-out",
}


async def scrape(port: int) -> str:
    """The relay's /metrics text."""
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(f"GET /metrics HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
    data = await reader.read()
    writer.close()
    return data.decode(errors="replace").partition("\r\n\r\n")[2]


def summary(text: str) -> str:
    """One line: each stage's mean and p99 bound in ms, and how many it counted."""
    buckets: dict[str, list[tuple[float, float]]] = {}
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        key, _, value = line.rpartition(" ")
        name = key.partition("{")[0]
        for base in STAGES:
            if name == f"{base}_bucket":
                edge = key.split('le="', 1)[1].split('"', 1)[0]
                bound = math.inf if edge == "+Inf" else float(edge)
                buckets.setdefault(base, []).append((bound, float(value)))
            elif name == f"{base}_sum":
                sums[base] = float(value)
            elif name == f"{base}_count":
                counts[base] = float(value)
    parts = []
    for base, label in STAGES.items():
        n = counts.get(base, 0.0)
        if not n:
            continue
        p99 = next((b for b, c in sorted(buckets.get(base, [])) if c >= 0.99 * n), math.inf)
        p99_text = "> 2.5 s" if math.isinf(p99) else f"<= {p99 * 1000:g} ms"
        parts.append(f"{label} mean {sums[base] / n * 1000:.2f} ms, p99 {p99_text} (n={n:.0f})")
    return "; ".join(parts)

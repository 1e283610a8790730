"""The bench's command line: run the chosen figures, then print one table."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import harness
from .figures import FIGURES
from .harness import FULL, QUICK, Scale
from .procs import raise_fd_limit
from .report import Row, markdown, render


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m bench`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure accord against a raw websockets broadcast relay on 127.0.0.1.",
    )
    parser.add_argument("--quick", action="store_true", help="fewer and shorter rounds (< 2 min)")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(FIGURES),
        metavar="NAME",
        help=f"run only this figure (repeatable): {', '.join(FIGURES)}",
    )
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument(
        "--raw-only", action="store_true", help="drive only the raw baseline (check the machine)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record the accord relay with py-spy during each figure; stacks go to DIR",
    )
    parser.add_argument(
        "--stores",
        action="store_true",
        help="also measure SQLite durability=process and Redis across two relays"
        " (needs redis-server and accord[redis])",
    )
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    return parser


def machine() -> str:
    """One line about where the numbers came from."""
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()},"
        f" {platform.system()} {platform.release()}"
    )


async def run(names: Sequence[str], scale: Scale) -> list[Row]:
    """Run the figures in order; a figure that fails becomes a note, not a crash."""

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    rows: list[Row] = []
    for name in names:
        t = time.perf_counter()
        log(f"[{name}]")
        try:
            rows += await asyncio.wait_for(FIGURES[name](scale, log), timeout=900)
        except Exception as exc:  # a broken figure must not hide the others
            log(f"  failed: {exc!r}")
            rows.append(Row(name, "", float("nan"), note=f"failed: {exc!r}"[:300]))
        log(f"  ({time.perf_counter() - t:.0f} s)")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench and print the table; the exit code is 0 unless a figure crashed."""
    args = build_parser().parse_args(argv)
    scale = QUICK if args.quick else FULL
    if args.rounds:
        scale = Scale(**{**scale.__dict__, "rounds": args.rounds})
    if args.profile:
        harness.PROFILE["dir"] = args.profile
    if args.raw_only:
        harness.KINDS[:] = ["raw"]
    elif args.stores:
        harness.KINDS[:] = ["raw", "accord", *harness.STORE_KINDS]
    raise_fd_limit()
    names = args.only or list(FIGURES)
    started = time.perf_counter()
    rows = asyncio.run(run(names, scale))
    mode = "--quick" if args.quick else "default"
    print(f"\naccord bench ({mode}), {machine()}, {time.perf_counter() - started:.0f} s\n")
    print(render(rows))
    if args.markdown:
        print()
        print(markdown(rows))
    return 1 if any(r.note.startswith("failed") for r in rows) else 0

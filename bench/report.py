"""The bench's one table: each figure for accord beside the raw baseline, with its verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Row:
    """One figure: accord's value, the raw baseline's, the target and how it is judged.

    ``limit`` with ``relative`` compares accord to ``limit`` x raw; without it,
    to ``limit`` itself. ``higher`` says bigger is better. No limit means the
    figure is only reported.
    """

    figure: str
    unit: str
    accord: float
    raw: float = math.nan
    target: str = "reported"
    limit: float | None = None
    relative: bool = False
    higher: bool = False
    note: str = ""

    @property
    def ratio(self) -> float:
        """accord / raw, or NaN without a raw figure."""
        if math.isnan(self.raw) or self.raw == 0 or math.isnan(self.accord):
            return math.nan
        return self.accord / self.raw

    @property
    def verdict(self) -> str:
        """PASS, MISS, or "-" for figures that are only reported."""
        if self.limit is None:
            return "-"
        if math.isnan(self.accord):
            return "MISS"
        bound = self.limit * self.raw if self.relative else self.limit
        if math.isnan(bound):
            return "MISS"
        ok = self.accord >= bound if self.higher else self.accord <= bound
        return "PASS" if ok else "MISS"


def _num(value: float) -> str:
    if math.isnan(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cells(row: Row) -> list[str]:
    ratio = "-" if math.isnan(row.ratio) else f"{row.ratio:.2f}x"
    return [
        row.figure,
        row.unit,
        _num(row.accord),
        _num(row.raw),
        ratio,
        row.target,
        row.verdict,
    ]


HEADER = ["figure", "unit", "accord", "raw", "ratio", "target", "verdict"]


def render(rows: list[Row]) -> str:
    """A plain-text table with aligned columns, then any notes."""
    table = [HEADER, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    right = {2, 3, 4}
    out = []
    for n, line in enumerate(table):
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    notes = [f"- {r.figure}: {r.note}" for r in rows if r.note]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)


def markdown(rows: list[Row]) -> str:
    """The same table in Markdown, for docs/performance.md."""
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    out += ["| " + " | ".join(_cells(r)) + " |" for r in rows]
    notes = [f"- {r.figure}: {r.note}" for r in rows if r.note]
    if notes:
        out += ["", *notes]
    return "\n".join(out)

"""The docs agree with themselves: the performance summary counts its own table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_performance_summary_counts_its_results_table() -> None:
    """ "N targets met, M missed" above the results table matches its PASS and MISS rows."""
    text = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    results = text.split("## Results", 1)[1]
    summary = re.search(r"(\d+) targets met, (\d+) missed", results)
    assert summary is not None, "the results section lost its summary line"
    table = results[summary.end() :].split("\n\n", 2)[1]
    verdicts = [row.rstrip(" |").rsplit("|", 1)[-1].strip() for row in table.splitlines()]
    assert (verdicts.count("PASS"), verdicts.count("MISS")) == (
        int(summary.group(1)),
        int(summary.group(2)),
    )


def test_readme_points_to_the_ops_guide_for_settings() -> None:
    """The README links the ops guide's settings table instead of keeping a copy that goes stale."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ops = (ROOT / "docs" / "ops.md").read_text(encoding="utf-8")
    assert "| setting | default |" in ops and "### Configuration" in ops
    assert "| setting | default |" not in readme
    assert "docs/ops.md#configuration" in readme

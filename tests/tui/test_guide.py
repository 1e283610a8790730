"""Plain words on the board: the task line and the notices about others' actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accord.protocol import events as E
from accord.protocol.model import PhaseVisit
from accord.tui.guide import budget_notice, clock, notice_for, task_line


def test_task_line_follows_phase_vote_and_role(board: Callable[[str], Any]) -> None:
    """The task line tells each role what to do now in the current phase."""
    b = board("learn")
    assert "2 of 5 left" in task_line(b.view("Priya"), b.ids["Priya"])
    assert "notes in Options" in task_line(b.view("Jon"), b.ids["Jon"])
    d = board("decide")
    assert "give your answer" in task_line(d.view("Marco"), d.ids["Marco"])


def test_notices_cover_others_actions_not_your_own(board: Callable[[str], Any]) -> None:
    """A phase move by the facilitator is news to others, not to the facilitator."""
    b = board("learn")
    session = b.view("Priya")
    moved = E.Event(seq=99, at=b.now, by=b.ids["Fay"], body=E.PhaseChanged(phase="needs"))
    session.history.append(PhaseVisit("needs", b.now, b.ids["Fay"]))
    notice = notice_for(session, moved, b.ids["Priya"])
    assert notice is not None and notice[0] == "Fay moved the board to Needs."
    assert notice_for(session, moved, b.ids["Fay"]) is None


def test_clock_formats_minutes_and_hours() -> None:
    """Timer text is mm:ss, or h:mm:ss past an hour, and never negative."""
    assert clock(65) == "01:05"
    assert clock(3725) == "1:02:05"
    assert clock(-3) == "00:00"


def test_budget_warning_is_a_calm_line_for_the_facilitator_only(
    board: Callable[[str], Any],
) -> None:
    """A relay's budget warning is plain numbers and words for the facilitator, nothing for others.

    Odd numbers from a relay that is not accord's (used above the limit, a zero
    limit) still give a share between 0 and 100.
    """
    b = board("learn")
    warned = E.Event(
        seq=99,
        at=b.now,
        by="relay",
        body=E.BudgetWarned(budget="events", used=80_000, limit=100_000),
    )
    notice = notice_for(b.view("Fay"), warned, b.ids["Fay"])
    assert notice is not None
    text, severity = notice
    assert severity == "information"
    assert "80%" in text and "80,000 of 100,000" in text and "Everything is saved" in text
    assert notice_for(b.view("Priya"), warned, b.ids["Priya"]) is None
    assert notice_for(b.view("Jon"), warned, b.ids["Jon"]) is None
    size = E.BudgetWarned(budget="bytes", used=4 * 1024 * 1024, limit=0)
    assert "100%" in budget_notice(size) and "MiB" in budget_notice(size)
    assert text.isprintable()

"""Feedback for every key: a key that does nothing says why; footers offer only what you can do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from accord.protocol.commands import CloseSession, CloseVote, DeleteCard, SettleNeed
from accord.tui.app import AccordApp
from accord.tui.guide import task_line
from accord.tui.widgets.learn import LearnPanel

Board = Callable[[str], Any]


def toasts(app: AccordApp) -> list[str]:
    """The messages of the toasts shown so far."""
    return [n.message for n in app._notifications]


def footer_keys(app: AccordApp) -> set[str]:
    """The descriptions of the keys the footer offers."""
    return {a.binding.description for a in app.board.active_bindings.values() if a.binding.show}


@pytest.mark.parametrize(
    ("phase", "viewer", "key", "said"),
    [
        ("learn", "Priya", "right_square_bracket", "Only the facilitator can move the board."),
        ("learn", "Priya", "v", "Only the facilitator can open, reveal or close votes."),
        ("learn", "Jon", "space", "A partner cannot vote."),
        ("learn", "Otto", "a", "An observer cannot add cards."),
        ("needs", "Otto", "e", "An observer cannot edit cards, needs and options."),
    ],
)
async def test_a_key_your_role_cannot_use_says_why(
    board: Board, preview: Any, h: Any, phase: str, viewer: str, key: str, said: str
) -> None:
    """A key your role may not use answers with one line saying why, not silence."""
    b = board(phase)
    b.join("Otto", "observer", "Audit")
    app = preview(b, viewer)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(key)
        await h.until(pilot, lambda: said in toasts(app), explain=lambda: str(toasts(app)))
        assert app.board.conn.sent == []  # nothing was asked of the relay


async def test_a_vote_key_with_no_vote_open_says_so(board: Board, preview: Any, h: Any) -> None:
    """Scoring keys while no score vote is open say that no scoring is open."""
    app = preview(board("options"), "Priya")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        await h.until(pilot, lambda: any("No scoring is open" in t for t in toasts(app)))


async def test_footers_offer_only_what_you_can_do(board: Board, preview: Any, h: Any) -> None:
    """Observers see no Edit or Add, partners and observers see no "a adds" on empty lanes."""
    b = board("needs")
    b.join("Otto", "observer", "Audit")
    app = preview(b, "Otto")
    async with app.run_test(size=(120, 36)):
        keys = footer_keys(app)
        assert "Edit" not in keys and "Add need" not in keys and "Ready" not in keys
        assert "Help" in keys
    for viewer, hint in (("Jon", False), ("Otto", False), ("Priya", True)):
        fresh = board("learn")
        fresh.join("Otto", "observer", "Audit")
        fresh.do("Fay", CloseVote(fresh.last("v")))
        for card in list(fresh.session.cards.values()):
            if card.lane == "value":  # the first lane, where the cursor starts, left empty
                fresh.do("Fay", DeleteCard(card.id))
        app = preview(fresh, viewer)
        async with app.run_test(size=(120, 36)):
            shown = h.widget_text(app.board.query_one(LearnPanel))
            assert "(empty" in shown
            assert ("a adds" in shown) is hint


async def test_closed_session_offers_no_vote_keys(board: Board, preview: Any, h: Any) -> None:
    """After the close, the footer shows no 0-5 Fist and a vote key says the session is closed."""
    b = board("decide")
    b.do("Fay", CloseSession())
    app = preview(b, "Marco")
    async with app.run_test(size=(120, 36)) as pilot:
        keys = footer_keys(app)
        assert "Fist" not in keys and "Agree" not in keys and "Ready" not in keys
        await pilot.press("a")
        await h.until(pilot, lambda: any("session is closed" in t for t in toasts(app)))


def test_now_line_says_what_comes_next(board: Board) -> None:
    """Once every need is settled, "Now:" tells the facilitator to press ] for Options."""
    b = board("needs")
    fay = b.ids["Fay"]
    assert "Settle each need" in task_line(b.view("Fay"), fay)
    for need in b.session.live_needs():
        if need.settled is None:
            b.do("Fay", SettleNeed(need.id, "optional"))
    assert "press ] for Options" in task_line(b.view("Fay"), fay)
    assert "facilitator moves on" in task_line(b.view("Priya"), b.ids["Priya"])
    o = board("options")
    assert "press ] for Decide" in task_line(o.view("Fay"), o.ids["Fay"])
    learn = board("learn")
    assert "V reveals the dot vote" in task_line(learn.view("Fay"), learn.ids["Fay"])

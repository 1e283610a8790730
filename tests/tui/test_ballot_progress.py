"""The facilitator sees each member's progress on a multi-item ballot, and a reveal with
incomplete ballots asks first (no network: a built session shown as the facilitator sees it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accord.protocol.commands import Cast, OpenVote, SetPhase, SettleNeed
from accord.protocol.model import BASELINE_ID
from accord.protocol.results import cell_key, criteria
from accord.tui.dialogs.confirm import ConfirmDialog
from accord.tui.widgets.sidebar import MemberList

Board = Callable[[str], Any]


def open_scoring(b: Any, anonymous: bool = False) -> int:
    """Needs settled, a score vote open, Priya one cell in; returns the cell count."""
    needs = list(b.session.needs)
    b.do("Fay", SettleNeed(needs[3], "not_a_need"))
    b.do("Fay", SetPhase("options"))
    b.do("Fay", OpenVote(kind="score", anonymous=anonymous))
    vote = b.last("v")
    crit = criteria(b.session)
    b.do("Priya", Cast(vote, {cell_key(BASELINE_ID, crit[0].need_id): 1}))
    return len(crit) * len(b.session.options)


async def test_facilitator_sees_each_members_progress(board: Board, preview: Any, h: Any) -> None:
    """The member list shows "1/3" for a participant who answered one of three cells."""
    b = board("needs")
    total = open_scoring(b)
    app = preview(b, "Fay")
    async with app.run_test(size=(120, 36)):
        members = h.widget_text(app.board.query_one(MemberList))
        priya = next(line for line in members.splitlines() if "Priya" in line)
        marco = next(line for line in members.splitlines() if "Marco" in line)
        assert f"□ 1/{total}" in priya
        assert f"□ 0/{total}" in marco


async def test_participants_see_no_one_elses_progress(board: Board, preview: Any, h: Any) -> None:
    """A participant's member list has the voted marks but not the item counts."""
    b = board("needs")
    total = open_scoring(b)
    app = preview(b, "Marco")
    async with app.run_test(size=(120, 36)):
        members = h.widget_text(app.board.query_one(MemberList))
        assert f"/{total}" not in members and "□" in members


async def test_reveal_with_an_incomplete_anonymous_ballot_asks_first(
    board: Board, preview: Any, h: Any
) -> None:
    """V opens a confirmation that counts the incomplete ballot and warns it may be recognised."""
    b = board("needs")
    open_scoring(b, anonymous=True)
    app = preview(b, "Fay")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("V")
        await h.until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        members = h.widget_text(app.board.query_one(MemberList))
        assert "/3" not in members  # no counts in an anonymous vote
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert "1 ballot is incomplete" in dialog.detail
        assert "may be recognisable" in dialog.detail
        await pilot.press("n")
        await h.until(pilot, lambda: not isinstance(app.screen, ConfirmDialog))

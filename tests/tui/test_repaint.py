"""Board parts repaint only the lines an event changed, and look as a full repaint would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accord.protocol.commands import Cast, OpenVote, SetReady
from accord.protocol.results import cell_key, criteria
from accord.tui.app import AccordApp
from accord.tui.widgets.base import BoardPart
from accord.tui.widgets.options import OptionsPanel
from accord.tui.widgets.sidebar import MemberList
from client_support import StillClient
from textual.strip import Strip

Board = Callable[[str], Any]


def _live_scores(board: Board) -> Any:
    """The options board with a second, open and visible score vote Fay has filled in."""
    b = board("options")
    b.do("Fay", OpenVote(kind="score", hidden=False))
    vote = b.last("v")
    marks = {
        cell_key(o, c.need_id): (1 if c.gate else 3)
        for o in b.session.options
        for c in criteria(b.session)
    }
    b.do("Fay", Cast(vote, marks))
    return b, vote


async def test_events_repaint_what_changed_and_match_a_full_repaint(board: Board) -> None:
    """A ready flag leaves the matrix alone; a score repaints some rows; the screen is right."""
    b, vote = _live_scores(board)
    # the facilitator's live session, so the builder's events reach the app
    conn = StillClient(b.session, b.ids["Fay"])
    app = AccordApp(conn, clock=lambda: b.now + 30, cursor_blink=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        panel = app.board.query_one(OptionsPanel)
        members = app.board.query_one(MemberList)
        matrix, people = painted(panel), painted(members)
        assert matrix and people

        b.do("Priya", SetReady(ready=True))
        app.board.redraw()
        await pilot.pause()
        assert all(a is b for a, b in zip(painted(panel), matrix, strict=True))
        assert any(a is not b for a, b in zip(painted(members), people, strict=True))

        option = list(b.session.options)[1]
        weighted = next(c for c in criteria(b.session) if not c.gate)
        b.do("Priya", Cast(vote, {cell_key(option, weighted.need_id): 0}))
        app.board.redraw()
        await pilot.pause()
        changed = [a is not b for a, b in zip(painted(panel), matrix, strict=True)]
        assert 0 < sum(changed) < len(changed)

        await _same_as_full_repaint(app, pilot)

        before = painted(panel)
        await pilot.press("down", "right")
        assert (panel.row, panel.col) == (1, 1)
        # the details under the matrix follow the cursor, so their length may change
        changed = [a is not b for a, b in zip(painted(panel), before, strict=False)]
        # status, header, options 1-4: the header and the two rows the cursor crossed repaint
        assert changed[:6] == [False, True, True, True, False, False]
        await _same_as_full_repaint(app, pilot)


def painted(part: BoardPart) -> list[Strip]:
    """The strips the part hands Textual for its lines (through the public ``render_line``).

    A line that did not change comes back as the very same strip object; trailing
    blank lines (made fresh on every call) are left out.
    """
    lines = [part.render_line(y) for y in range(part.size.height)]
    while lines and not lines[-1].text.strip():
        lines.pop()
    return lines


async def _same_as_full_repaint(app: AccordApp, pilot: Any) -> None:
    """The screen as painted equals the screen after every board part repaints in full."""
    shown = app.export_screenshot()
    for part in app.board.query(BoardPart):
        part.refresh()
    await pilot.pause()
    assert app.export_screenshot() == shown


async def test_cursor_moves_in_learn_and_needs_match_a_full_repaint(
    board: Board, preview: Any
) -> None:
    """Moving the cursor repaints only what it crossed, and the screen stays right."""
    for phase, keys in (("learn", ("down", "right", "down")), ("needs", ("down", "down", "up"))):
        app = preview(board(phase), "Fay")
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            panel = app.board.query_one(f"#{phase}", BoardPart)
            for key in keys:
                before = painted(panel)
                await pilot.press(key)
                after = painted(panel)
                moved = [a is not b for a, b in zip(after, before, strict=False)]
                assert any(moved), f"{phase}: {key} changed nothing on the panel"
                assert not all(moved), f"{phase}: {key} repainted every line"
                await _same_as_full_repaint(app, pilot)

"""Below 100 columns the sidebar folds into a one-line strip; S opens it; messages still show."""

from __future__ import annotations

from typing import Any

from accord.tui.widgets.sidebar import Sidebar, StatusStrip


async def test_sidebar_folds_into_a_strip_on_narrow_terminals(
    board: Any, preview: Any, h: Any
) -> None:
    """At 80 columns the strip replaces the sidebar, S opens it, and a key's reason shows."""
    app = preview(board("learn"), "Priya")
    async with app.run_test(size=(80, 24)) as pilot:
        sidebar, strip = app.board.query_one(Sidebar), app.board.query_one(StatusStrip)
        assert not sidebar.display and strip.display
        assert "5/5 here" in h.widget_text(strip)
        await pilot.press("S")
        await h.until(pilot, lambda: sidebar.display)
        await pilot.press("S")
        await h.until(pilot, lambda: not sidebar.display)
        await pilot.press("right_square_bracket")
        await h.until(pilot, lambda: "Only the facilitator" in h.widget_text(strip))


async def test_wide_terminals_keep_the_sidebar(board: Any, preview: Any) -> None:
    """At 120 columns the sidebar shows, the strip does not, and S is not offered."""
    app = preview(board("learn"), "Priya")
    async with app.run_test(size=(120, 36)):
        assert app.board.query_one(Sidebar).display
        assert not app.board.query_one(StatusStrip).display
        assert "Sidebar" not in {a.binding.description for a in app.board.active_bindings.values()}

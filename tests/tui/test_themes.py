"""Themes: monochrome and colour-blind-safe themes in the picker, NO_COLOR kept, marks not hues."""

from __future__ import annotations

import os
from typing import Any

import pytest
from accord.tui.config import Profile, load_profile, save_profile
from accord.tui.firstrun import FirstRunApp
from accord.tui.widgets.phase_bar import PhaseBar


async def test_picker_offers_mono_and_colour_safe_and_remembers(
    board: Any, preview: Any, h: Any
) -> None:
    """Both accord themes are in the theme picker, and a picked theme is kept for next time."""
    save_profile(Profile(name="Priya", department="Finance"))
    app = preview(board("options"), "Priya")
    async with app.run_test(size=(100, 30)) as pilot:
        assert {"accord-mono", "accord-colour-safe"} <= set(app.available_themes)
        app.theme = "accord-colour-safe"
        await h.until(pilot, lambda: load_profile().theme == "accord-colour-safe")
    again = preview(board("options"), "Priya")
    assert again.theme == "accord-colour-safe"


def test_no_color_survives_the_first_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR is still set for the board after the first-run questions were built."""
    monkeypatch.setenv("NO_COLOR", "1")
    first = FirstRunApp(Profile(), "")
    assert first.no_color
    assert os.environ.get("NO_COLOR") == "1"


async def test_no_color_makes_the_board_monochrome(
    board: Any, preview: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With NO_COLOR set, the board renders without colour."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = preview(board("learn"), "Priya")
    async with app.run_test(size=(100, 30)):
        assert app.no_color


async def test_phase_bar_marks_phases_with_symbols(board: Any, preview: Any, h: Any) -> None:
    """The current phase has ▸ and the phases behind it ✓, so colour is not the only cue."""
    app = preview(board("options"), "Priya")
    async with app.run_test(size=(100, 30)):
        text = h.widget_text(app.board.query_one(PhaseBar))
        assert "✓1 Learn" in text and "✓2 Needs" in text and "▸3 Options" in text
        assert "✓4" not in text

"""SVG snapshots of each phase panel and the help screen, at 60x20, 80x24, 120x36 and 160x50.

The sessions are built with the protocol's rules and reducer at fixed times,
the clock is frozen and the cursor does not blink, so the pictures are stable.
Update them with ``pytest tests/tui --snapshot-update`` after a deliberate change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

SIZES = [(60, 20), (80, 24), (120, 36), (160, 50)]
#: Who looks at each phase: a participant, the facilitator, a participant, a participant.
VIEWERS = {"learn": "Priya", "needs": "Fay", "options": "Priya", "decide": "Marco"}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("phase", list(VIEWERS))
def test_phase_panel(
    snap_compare: Any, board: Callable[[str], Any], preview: Any, phase: str, size: tuple[int, int]
) -> None:
    """Each phase's board looks as approved, at the smallest and a roomy terminal size."""
    app = preview(board(phase), VIEWERS[phase])
    assert snap_compare(app, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_screen(
    snap_compare: Any, board: Callable[[str], Any], preview: Any, size: tuple[int, int]
) -> None:
    """``?`` opens the help of the current phase with its keys, as approved."""
    app = preview(board("options"), "Fay")
    assert snap_compare(app, press=["question_mark"], terminal_size=size)


@pytest.mark.parametrize("keys", [[], ["right", "right"]], ids=["first", "scrolled"])
def test_options_at_60x20(
    snap_compare: Any, board: Callable[[str], Any], preview: Any, keys: list[str]
) -> None:
    """At 60x20 the Options matrix keeps a short Kind column and says where more criteria lie."""
    app = preview(board("options"), "Priya")
    assert snap_compare(app, press=keys, terminal_size=(60, 20))


def test_option_detail_at_80x24(
    snap_compare: Any, board: Callable[[str], Any], preview: Any
) -> None:
    """Enter on an option opens its detail view over the board, as approved."""
    app = preview(board("options"), "Priya")
    assert snap_compare(app, press=["down", "enter"], terminal_size=(80, 24))

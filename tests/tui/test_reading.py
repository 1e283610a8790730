"""Reading the board: detail views, the legend, the dot reveal and the narrow matrix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accord.protocol.commands import (
    AddNeed,
    AddNote,
    AddOption,
    Cast,
    RevealVote,
    SetPhase,
    SettleNeed,
)
from accord.tui.dialogs.detail import DetailScreen
from accord.tui.dialogs.help import HelpScreen
from accord.tui.widgets.learn import LearnPanel
from accord.tui.widgets.needs import NeedsPanel
from accord.tui.widgets.options import OptionsPanel
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Static

NOTE = "Minimum term 12 months.\nSetup fee waived if signed by March."


def screen_lines(app: Any) -> str:
    """Every character on the terminal right now, line by line."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


async def open_detail(pilot: Pilot[Any], *keys: str) -> DetailScreen:
    """Press ``keys`` then Enter; return the detail view that opened."""
    for key in keys:
        await pilot.press(key)
    await pilot.press("enter")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, DetailScreen)
    return screen


async def test_enter_reads_a_card_in_full_and_esc_closes(
    board: Callable[[str], Any], preview: Any
) -> None:
    """Enter on a card opens its detail with text, author and dots; Esc returns to the board."""
    app = preview(board("learn"), "Priya")
    async with app.run_test(size=(80, 24)) as pilot:
        detail = await open_detail(pilot)
        assert detail.detail.title == "Card · Value we are after"
        shown = screen_lines(app)
        assert "Lower cost per transaction" in shown
        assert "by Priya (Finance)" in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_enter_reads_a_need_for_the_facilitator(
    board: Callable[[str], Any], preview: Any
) -> None:
    """The facilitator reads a need's why, success measure and department split."""
    app = preview(board("needs"), "Fay")
    async with app.run_test(size=(80, 24)) as pilot:
        detail = await open_detail(pilot, "down")
        text = detail.detail.plain()
        assert text.startswith("Refunds handled within one day")
        assert "Customers complain" in text and "90% in 24h" in text
        assert "must 2 · optional 2 · not a need 0" in text


async def test_every_participant_reads_a_partner_note_in_full(
    board: Callable[[str], Any], preview: Any
) -> None:
    """A long partner note, cut on the board, reads whole in the option's detail view."""
    b = board("options")
    b.do("Jon", AddNote(list(b.session.options)[1], NOTE))
    app = preview(b, "Marco")
    async with app.run_test(size=(80, 24)) as pilot:
        detail = await open_detail(pilot, "down")
        assert "  Minimum term 12 months.\n  Setup fee waived if signed by March." in (
            detail.detail.plain()
        )
        assert "Setup fee waived if signed by March." in screen_lines(app)


async def test_partner_and_observer_read_options_as_their_view_allows(
    board: Callable[[str], Any], preview: Any
) -> None:
    """The partner reads its note but no scores; an observer reads the ranking."""
    b = board("options")
    b.join("Olga", "observer", "Audit")
    partner = preview(b, "Jon")
    async with partner.run_test(size=(80, 24)) as pilot:
        text = (await open_detail(pilot, "down")).detail.plain()
        assert "We hold licences in all three target countries." in text
        assert "Scores are not shared with you." in text
    observer = preview(b, "Olga")
    async with observer.run_test(size=(80, 24)) as pilot:
        text = (await open_detail(pilot, "down")).detail.plain()
        assert "Rank #1 of 4, score 4.00" in text


async def test_detail_scrolls_at_60x20(board: Callable[[str], Any], preview: Any) -> None:
    """At 60x20 a long detail scrolls, so its last line (the legend) can be reached."""
    app = preview(board("options"), "Priya")
    async with app.run_test(size=(60, 20)) as pilot:
        detail = await open_detail(pilot, "down")
        body = detail.query_one("#detail-body", VerticalScroll)
        assert body.max_scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert body.scroll_y == body.max_scroll_y
        assert "after your own answer" in screen_lines(app)


async def test_help_explains_every_mark(board: Callable[[str], Any], preview: Any) -> None:
    """``?`` help carries the legend of the board's marks."""
    app = preview(board("options"), "Priya")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        marks = str(app.screen.query_one("#help-marks", Static).render())
        for meaning in ("disputed", "split", "gate passed", "not yet confirmed", "stale"):
            assert meaning in marks


async def test_gate_cell_says_pass_and_fail_counts(
    board: Callable[[str], Any], preview: Any, h: Any
) -> None:
    """A gate cell's line gives pass/fail counts, never a mean."""
    app = preview(board("options"), "Priya")
    async with app.run_test(size=(120, 36)):
        text = h.widget_text(app.board.query_one(OptionsPanel))
        assert "Cell: 0 pass / 4 fail" in text
        assert "Cell: mean" not in text


async def test_dot_reveal_sorts_cards_and_marks_the_top_ones(
    board: Callable[[str], Any], preview: Any, h: Any
) -> None:
    """After the reveal each lane lists its most dotted card first, marked with ★."""
    b = board("learn")
    cards = list(b.session.cards)
    b.do("Lena", Cast(b.last("v"), {cards[1]: 4}))
    b.do("Fay", RevealVote(b.last("v")))
    app = preview(b, "Priya")
    async with app.run_test(size=(120, 36)):
        text = h.screen_text(app)
        assert text.index("Sell in three new") < text.index("Lower cost per")
        assert text.count("★") >= 3
        assert "most dots first" in text


def options_with_many_criteria(b: Any) -> None:
    """Nine settled needs (one gate, eight weighted) in the Options phase."""
    b.do("Fay", RevealVote(b.last("v")))
    b.do("Fay", SetPhase("needs"))
    more = ("Audit trail", "Uptime", "Data residency", "Exit terms")
    for text in ("Budget", "Refunds fast", "New markets", "Mobile checkout", "Support load", *more):
        b.do("Priya", AddNeed(text, "", ""))
    for i, need in enumerate(b.session.needs):
        b.do("Fay", SettleNeed(need, "must" if i == 0 else "optional"))
    b.do("Fay", SetPhase("options"))
    b.do("Priya", AddOption("partnership", "Partner with PayCo", ""))


async def test_narrow_matrix_says_more_criteria_lie_to_the_side(
    board: Callable[[str], Any], preview: Any, h: Any
) -> None:
    """At 60x20 hidden criteria show a "more →" cue, and "← more" once scrolled past them."""
    b = board("learn")
    options_with_many_criteria(b)
    app = preview(b, "Priya")
    async with app.run_test(size=(60, 20)) as pilot:
        panel = app.board.query_one(OptionsPanel)
        head = h.widget_text(panel).splitlines()[1]
        assert "more →" in head and "C1 p/f" in head and "C9" not in head
        assert "partnr" in h.widget_text(panel)  # the kind stays, in short
        for _ in range(8):
            await pilot.press("right")
        await pilot.pause()
        head = h.widget_text(panel).splitlines()[1]
        assert "← more" in head and "C9 w3" in head and "C1 p/f" not in head


async def test_a_click_on_a_need_or_card_opens_it(
    board: Callable[[str], Any], preview: Any
) -> None:
    """Clicking a need's row, or a card in the third lane, opens that item in full."""
    app = preview(board("needs"), "Fay")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.click(NeedsPanel, offset=(12, 3))  # status, column heads, then the rows
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.detail.plain().startswith("Refunds handled within one day")
    app = preview(board("learn"), "Priya")
    async with app.run_test(size=(120, 36)) as pilot:
        lanes = app.board.query_one(LearnPanel)
        await pilot.click(LearnPanel, offset=(2 * lanes.click_lane_w + 3, 2))
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.detail.title == "Card · What stakeholders say"


async def test_enter_in_decide_reads_the_open_round(
    board: Callable[[str], Any], preview: Any
) -> None:
    """Enter in Decide opens the round under way: its number, its answers and who is missing."""
    app = preview(board("decide"), "Fay")
    async with app.run_test(size=(120, 36)) as pilot:
        detail = await open_detail(pilot)
        assert "Round 2" in detail.detail.title, detail.detail.title
        assert "Not answered yet: Fay, Marco" in detail.detail.plain()

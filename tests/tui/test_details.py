"""The detail view's content: full text, author, history and votes, as each role may see them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accord.protocol.commands import (
    AddNote,
    Cast,
    EditCard,
    EditNeed,
    EditOption,
    OpenVote,
    RevealVote,
    SetPartnerView,
)
from accord.protocol.model import PROPOSAL_KEY, PartnerView
from accord.protocol.results import Cell
from accord.tui.details import (
    card_detail,
    cell_words,
    need_detail,
    note_detail,
    option_detail,
    round_detail,
)
from accord.tui.marks import gate_counts, legend_lines, top_cards

LONG_NOTE = "Minimum term 12 months.\nSetup fee waived if signed by March.\nExit: 90 days notice."


def test_card_detail_keeps_every_line_and_names_author_and_earlier_wording(
    board: Callable[[str], Any],
) -> None:
    """A reworded multi-line card shows all its lines, its author and the wording before."""
    b = board("learn")
    card = next(iter(b.session.cards))
    b.do("Priya", EditCard(card, "Lower cost per transaction\nat least 0.2% less\nwithin a year"))
    detail = card_detail(b.view("Marco"), b.ids["Marco"], card)
    lines = [line.text for line in detail.lines]
    assert lines[:3] == ["Lower cost per transaction", "at least 0.2% less", "within a year"]
    assert "by Priya (Finance)" in lines
    text = detail.plain()
    assert "History: 1 earlier wording" in text
    assert "changed by Priya" in text
    assert "    Lower cost per transaction" in text  # the wording before the edit


def test_card_detail_hides_dot_totals_until_reveal_but_shows_your_own(
    board: Callable[[str], Any],
) -> None:
    """While the dot vote is hidden you see your dots only; after the reveal the totals and who."""
    b = board("learn")
    card = next(iter(b.session.cards))
    hidden = card_detail(b.view("Priya"), b.ids["Priya"], card).plain()
    assert "You: 2" in hidden
    assert "stay hidden until the vote is revealed" in hidden
    assert "All dots" not in hidden
    b.do("Fay", RevealVote(b.last("v")))
    shown = card_detail(b.view("Marco"), b.ids["Marco"], card).plain()
    assert "All dots: 2 (revealed)" in shown
    assert "Priya: 2" in shown


def test_card_detail_marks_your_unconfirmed_dots(board: Callable[[str], Any]) -> None:
    """Dots sent and not yet confirmed show with their own words."""
    b = board("learn")
    card = list(b.session.cards)[1]
    pending = {b.last("v"): {card: 1}}
    text = card_detail(b.view("Priya"), b.ids["Priya"], card, pending).plain()
    assert "You: 1 · (sent, not yet confirmed)" in text


def test_need_detail_shows_why_success_split_lens_and_history(board: Callable[[str], Any]) -> None:
    """A need shows its reason, success measure, settled class, split by department and edits."""
    b = board("needs")
    need = next(iter(b.session.needs))
    b.do("Priya", EditNeed(need, "Total cost stays within budget", "Capped\nby the board", "Plan"))
    text = need_detail(b.view("Marco"), b.ids["Marco"], need).plain()
    assert "Capped\nby the board" in text
    assert "Settled as must." in text
    assert "must 2 · optional 2 · not a need 0 (revealed)" in text
    assert "  Finance: must 1 · optional 0 · not 0" in text
    assert "why:\n    The board capped spend" in text
    assert "≠" in text  # the legend of the lens mark is in the view


def test_partner_sees_no_split_or_class_it_was_not_given(board: Callable[[str], Any]) -> None:
    """The partner's need detail holds only what the partner's projection carries."""
    b = board("needs")
    need = next(iter(b.session.needs))
    b.do("Fay", SetPartnerView(PartnerView(shared_needs=[need])))
    jon = b.view("Jon")
    assert list(jon.needs) == [need]
    text = need_detail(jon, b.ids["Jon"], need).plain()
    assert "Settled as" not in text
    assert "Finance:" not in text


def test_option_detail_shows_full_title_every_note_and_gate_counts(
    board: Callable[[str], Any],
) -> None:
    """An option shows its full title, every note in full, gate counts and its rank."""
    b = board("options")
    option = list(b.session.options)[1]
    b.do("Jon", AddNote(option, LONG_NOTE))
    b.do("Lena", EditOption(option, "Partner with PayCo for cards and local payment methods", "x"))
    text = option_detail(b.view("Priya"), b.ids["Priya"], option).plain()
    assert "Partner with PayCo for cards and local payment methods" in text
    assert "by Lena (Sales)" in text
    assert "We hold licences in all three target countries." in text
    assert "  Minimum term 12 months.\n  Setup fee waived if signed by March." in text
    assert "all: 4 pass / 0 fail" in text
    assert "mean" not in text.split("(gate)")[1].split("\n")[2]  # a gate never shows a mean
    assert "Rank #1 of 4" in text
    assert "History: 1 earlier wording" in text


def test_partner_option_detail_says_scores_are_not_shared(board: Callable[[str], Any]) -> None:
    """The partner reads every note but is told the scores are not shared with it."""
    b = board("options")
    option = list(b.session.options)[1]
    text = option_detail(b.view("Jon"), b.ids["Jon"], option).plain()
    assert "We hold licences" in text
    assert "Scores are not shared with you." in text
    assert "Rank #" not in text


def test_observer_reads_options_with_results(board: Callable[[str], Any]) -> None:
    """An observer who joined late reads the revealed scores of an option."""
    b = board("options")
    b.join("Olga", "observer", "Audit")
    option = list(b.session.options)[2]
    text = option_detail(b.view("Olga"), b.ids["Olga"], option).plain()
    assert "Build payments in-house" in text
    assert "Rank #" in text
    assert "you:" not in text


def test_note_detail_keeps_line_breaks(board: Callable[[str], Any]) -> None:
    """A partner note reads in full, line by line, with its author."""
    b = board("options")
    option = list(b.session.options)[1]
    b.do("Jon", AddNote(option, LONG_NOTE))
    note = list(b.session.notes)[-1]
    detail = note_detail(b.view("Marco"), b.ids["Marco"], note)
    assert detail.title == "Partner note on Partner with PayCo"
    assert [line.text for line in detail.lines][:3] == LONG_NOTE.split("\n")
    assert "by Jon (PayCo)" in detail.plain()


def test_round_detail_shows_outcome_stances_objections_and_missing(
    board: Callable[[str], Any],
) -> None:
    """A recorded round shows its outcome, each stance in words, objections and who is missing."""
    b = board("decide")
    detail = round_detail(b.view("Priya"), b.ids["Priya"], 1)
    assert detail.title == "Round 1 · blocked"
    text = detail.plain()
    assert "Marco: object\n  Refunds at our volume are untested" in text
    assert "• Refunds at our volume are untested" in text
    live = round_detail(b.view("Priya"), b.ids["Priya"], 2)
    assert live.title == "Round 2 · open"
    assert "Not answered yet: Fay, Marco" in live.plain()


def test_round_detail_says_one_finger_not_fingers(board: Callable[[str], Any]) -> None:
    """A fist-of-five stance of one reads "1 finger"."""
    b = board("decide")
    b.do("Fay", RevealVote(b.last("v")))
    b.do("Fay", OpenVote(kind="consensus", method="fist"))
    vote = b.last("v")
    b.do("Priya", Cast(vote, {PROPOSAL_KEY: 1}, "Too early"))
    b.do("Fay", RevealVote(vote))
    text = round_detail(b.view("Lena"), b.ids["Lena"], 3).plain()
    assert "Priya: 1 finger\n" in text


def test_gate_counts_and_cell_words_never_give_a_gate_mean() -> None:
    """Gates read as pass/fail counts; weighted cells as mean, spread and answers."""
    assert gate_counts([1, 1, 1, 0]) == "3 pass / 1 fail"
    assert cell_words(Cell("o", "n", [1, 0]), gate=True) == "1 pass / 1 fail"
    assert cell_words(Cell("o", "n", [2, 4]), gate=False).startswith("mean 3.0, spread 1.0")


def test_legend_names_every_mark_and_top_cards_count_ties() -> None:
    """The legend explains each mark; the top cards are the three highest totals, ties included."""
    text = "\n".join(legend_lines())
    for mark in ("!", "~", "✓3/4", "✗1/4", "stale", "·", "≠", "★"):
        assert mark in text
    assert top_cards({"a": 5, "b": 4, "c": 4, "d": 3, "e": 0}) == {"a", "b", "c"}
    assert top_cards({"a": 0}) == set()

"""Fixtures for the TUI tests: private config/data dirs, realistic sessions, app helpers."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from accord.protocol import events as E
from accord.protocol.commands import (
    AddCard,
    AddNeed,
    AddNote,
    AddOption,
    Cast,
    Command,
    OpenVote,
    Propose,
    RevealVote,
    SetPhase,
    SetReady,
    SettleNeed,
    SetWeight,
)
from accord.protocol.model import CLASS_MARK, PROPOSAL_KEY, Role, Session, new_session
from accord.protocol.reducer import apply_event
from accord.protocol.results import cell_key, criteria
from accord.protocol.rules import decide, join
from accord.protocol.views import project_session
from accord.tui.app import AccordApp
from client_support import StillClient
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.widget import Widget

T0 = 1_800_000_000.0
QUESTION = "Partner with PayCo for payments, build them ourselves, or outsource?"


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point accord's config and data dirs at the test's temp dir."""
    monkeypatch.setenv("ACCORD_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ACCORD_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


class Builder:
    """Builds a session the way the relay does: rules decide, the reducer applies."""

    def __init__(self, now: float = T0) -> None:
        self.now = now
        self.session = new_session("s7k2demo", QUESTION, now)
        self.session.seq = 1
        self.ids: dict[str, str] = {}

    def _apply(self, by: str, body: E.EventBody) -> None:
        self.now += 7
        event = E.Event(seq=self.session.seq + 1, at=self.now, by=by, body=body)
        apply_event(self.session, event)

    def join(self, name: str, role: Role, department: str) -> str:
        """Add a member; returns their id."""
        body = join(self.session, name, role, department, self.now)
        self._apply(body.member.id, body)
        self.ids[name] = body.member.id
        return body.member.id

    def do(self, name: str, command: Command) -> None:
        """Run a command as ``name`` through the rules (raises if refused)."""
        member = self.ids[name]
        for body in decide(self.session, member, command, self.now):
            self._apply(member, body)

    def last(self, prefix: str) -> str:
        """The id of the newest card/need/option/vote (by prefix c/n/o/v)."""
        lists: dict[str, dict[str, Any]] = {
            "c": self.session.cards,
            "n": self.session.needs,
            "o": self.session.options,
            "v": self.session.votes,
        }
        return str(list(lists[prefix])[-1])

    def view(self, name: str) -> Session:
        """The session as ``name`` may see it."""
        return project_session(self.session, self.ids[name])


def people(b: Builder) -> None:
    """The cast: a facilitator, three participants from different departments, a partner."""
    b.join("Fay", "facilitator", "Product")
    b.join("Priya", "participant", "Finance")
    b.join("Marco", "participant", "Operations")
    b.join("Lena", "participant", "Sales")
    b.join("Jon", "partner", "PayCo")


def learn_board(b: Builder) -> None:
    """Cards in all lanes and an open, hidden dot vote with some dots spent."""
    people(b)
    for name, lane, text in [
        ("Priya", "value", "Lower cost per transaction"),
        ("Lena", "value", "Sell in three new countries this year"),
        ("Marco", "no_change", "Manual refunds keep taking two days"),
        ("Priya", "no_change", "Fees keep eating our margin"),
        ("Lena", "stakeholders", "Customers ask for local payment methods"),
        ("Marco", "stakeholders", "Support wants fewer payment tickets"),
    ]:
        b.do(name, AddCard(lane, text))  # type: ignore[arg-type]
    b.do("Fay", OpenVote(kind="dots", dots=5))
    vote = b.last("v")
    cards = list(b.session.cards)
    b.do("Priya", Cast(vote, {cards[0]: 2, cards[3]: 1}))
    b.do("Marco", Cast(vote, {cards[2]: 3}))
    b.do("Lena", SetReady(True))


def needs_board(b: Builder) -> None:
    """Needs from three departments, a revealed classification, two needs settled."""
    learn_board(b)
    b.do("Fay", RevealVote(b.last("v")))
    b.do("Fay", SetPhase("needs"))
    for name, text, why, success in [
        ("Priya", "Total cost stays within budget", "The board capped spend", "Year one in plan"),
        ("Marco", "Refunds handled within one day", "Customers complain", "90% in 24h"),
        ("Lena", "Launch in new markets this year", "Sales targets", "Live in 3 countries"),
        ("Lena", "Checkout works well on mobile", "Most buyers use phones", "Conversion +10%"),
    ]:
        b.do(name, AddNeed(text, why, success))
    b.do("Fay", OpenVote(kind="classify"))
    vote = b.last("v")
    needs = list(b.session.needs)
    picks = {
        "Fay": ["must", "must", "optional", "optional"],
        "Priya": ["must", "optional", "optional", "not_a_need"],
        "Marco": ["optional", "must", "optional", "optional"],
        "Lena": ["optional", "optional", "must", "must"],
    }
    for name, classes in picks.items():
        b.do(name, Cast(vote, {n: CLASS_MARK[c] for n, c in zip(needs, classes, strict=True)}))  # type: ignore[index]
    b.do("Fay", RevealVote(vote))
    b.do("Fay", SettleNeed(needs[0], "must"))
    b.do("Fay", SettleNeed(needs[1], "optional"))
    b.do("Fay", SettleNeed(needs[2], "optional"))


def options_board(b: Builder) -> None:
    """Options of each kind, partner notes, criteria with weights, a revealed score vote."""
    needs_board(b)
    needs = list(b.session.needs)
    b.do("Fay", SettleNeed(needs[3], "not_a_need"))
    b.do("Fay", SetPhase("options"))
    b.do("Fay", SetWeight(needs[2], 5))
    b.do("Lena", AddOption("partnership", "Partner with PayCo", "Their platform, our brand"))
    b.do("Marco", AddOption("internal", "Build payments in-house", "Our team, our stack"))
    b.do("Priya", AddOption("outsourcing", "Outsource to an agency", "They run it end to end"))
    partner_option = list(b.session.options)[1]
    b.do("Jon", AddNote(partner_option, "We hold licences in all three target countries."))
    b.do("Fay", OpenVote(kind="score"))
    vote = b.last("v")
    likes = {
        "Fay": [1, 4, 2, 3],
        "Priya": [0, 4, 2, 3],
        "Marco": [1, 3, 4, 1],
        "Lena": [0, 5, 1, 3],
    }
    for name, scores in likes.items():
        marks: dict[str, int] = {}
        for option, like in zip(b.session.options, scores, strict=True):
            for crit in criteria(b.session):
                value = (1 if like >= 2 else 0) if crit.gate else like
                marks[cell_key(option, crit.need_id)] = value
        b.do(name, Cast(vote, marks))
    b.do("Fay", RevealVote(vote))


def decide_board(b: Builder) -> None:
    """A proposal, a failed consent round with an objection, and a second round under way."""
    options_board(b)
    b.do("Fay", SetPhase("decide"))
    partner_option = list(b.session.options)[1]
    b.do("Fay", Propose(partner_option, "We partner with PayCo for card and local payments."))
    b.do("Fay", OpenVote(kind="consensus", method="consent"))
    vote = b.last("v")
    b.do("Fay", Cast(vote, {PROPOSAL_KEY: 2}))
    b.do("Priya", Cast(vote, {PROPOSAL_KEY: 2}))
    b.do("Marco", Cast(vote, {PROPOSAL_KEY: 0}, "Refunds at our volume are untested"))
    b.do("Lena", Cast(vote, {PROPOSAL_KEY: 2}))
    b.do("Fay", RevealVote(vote))
    b.do("Fay", OpenVote(kind="consensus", method="consent"))
    vote = b.last("v")
    b.do("Priya", Cast(vote, {PROPOSAL_KEY: 2}))
    b.do("Lena", Cast(vote, {PROPOSAL_KEY: 1}))


BOARDS: dict[str, Callable[[Builder], None]] = {
    "learn": learn_board,
    "needs": needs_board,
    "options": options_board,
    "decide": decide_board,
}


@pytest.fixture
def board() -> Callable[[str], Builder]:
    """Build a realistic session that has reached a phase."""

    def make(phase: str) -> Builder:
        b = Builder()
        BOARDS[phase](b)
        return b

    return make


def preview_app(b: Builder, viewer: str, **options: Any) -> AccordApp:
    """An app showing ``viewer``'s view of a built session, with a frozen clock."""
    conn = StillClient(b.view(viewer), b.ids[viewer])
    options.setdefault("clock", lambda: b.now + 30)
    options.setdefault("cursor_blink", False)
    return AccordApp(conn, **options)


@pytest.fixture
def preview() -> Callable[..., AccordApp]:
    """Make an app that shows a built session as one member sees it (no network)."""
    return preview_app


def widget_text(widget: Widget) -> str:
    """What a widget shows, as plain text."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=max(20, widget.size.width), color_system=None)
    console.print(widget.render())
    return buffer.getvalue()


def screen_text(app: App[Any]) -> str:
    """The text of every board part on the app's board screen."""
    from accord.tui.widgets.base import BoardPart

    assert isinstance(app, AccordApp)
    return "\n".join(widget_text(w) for w in app.board.query(BoardPart) if w.display)


async def until(
    pilot: Pilot[Any],
    predicate: Callable[[], bool],
    timeout: float = 10.0,
    explain: Callable[[], str] | None = None,
) -> None:
    """Let the app run until ``predicate()`` holds; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            detail = explain() if explain is not None else ""
            raise AssertionError(f"timed out waiting for the app\n{detail}")
        await pilot.pause(0.02)


class Helpers:
    """Helper functions handed to tests as one fixture (tests cannot import conftest)."""

    widget_text = staticmethod(widget_text)
    screen_text = staticmethod(screen_text)
    until = staticmethod(until)
    preview_app = staticmethod(preview_app)


@pytest.fixture
def h() -> type[Helpers]:
    """Text and waiting helpers for app tests."""
    return Helpers

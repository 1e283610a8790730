"""What a board part may ask a person, as a protocol the board screen implements.

Widgets never import screens or dialogs (a test enforces the direction
``screens -> dialogs -> widgets``). When a widget needs an answer (a text, a
need, an option, a proposal, a decision, a yes/no), it calls its screen through
``Asks``; the screen opens the matching dialog and calls ``done`` with the
answer (None when the person cancels). The drafts the dialogs return live here
so both sides can name them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from accord.protocol.commands import Propose, RecordDecision
from accord.protocol.model import OptionKind, Session
from accord.tui.details import Detail


@dataclass(frozen=True, slots=True)
class NeedDraft:
    """A need as typed in the dialog."""

    text: str
    why: str
    success: str


@dataclass(frozen=True, slots=True)
class OptionDraft:
    """An option as typed in the dialog."""

    kind: OptionKind
    title: str
    description: str


@runtime_checkable
class Asks(Protocol):
    """The questions a board part can put to the person at the keyboard."""

    def ask_text(
        self,
        title: str,
        done: Callable[[str | None], None],
        *,
        label: str = "",
        initial: str = "",
        placeholder: str = "",
        explain: str = "",
        max_length: int = 500,
        required: bool = True,
        required_message: str = "",
        lines: bool = False,
    ) -> None:
        """A line of text, or several with ``lines`` (``TextPrompt``)."""

    def ask_need(
        self, title: str, done: Callable[[NeedDraft | None], None], initial: NeedDraft | None
    ) -> None:
        """A need with its reason and success measure (``NeedDialog``)."""

    def ask_option(
        self, title: str, done: Callable[[OptionDraft | None], None], initial: OptionDraft | None
    ) -> None:
        """An option's kind, title and description (``OptionDialog``)."""

    def ask_proposal(
        self,
        done: Callable[[Propose | None], None],
        options: list[tuple[str, str]],
        chosen: str,
        statement: str = "",
    ) -> None:
        """A proposal: an option and a statement (``ProposeDialog``)."""

    def ask_decision(
        self,
        done: Callable[[RecordDecision | None], None],
        options: list[tuple[str, str]],
        chosen: str,
        statement: str = "",
        dissent: str = "",
        today: datetime.date | None = None,
        session: Session | None = None,
    ) -> None:
        """The decision to record (``DecisionDialog``); ``session`` tells it what rounds passed."""

    def ask_confirm(
        self, question: str, done: Callable[[bool | None], None], detail: str = "", yes: str = ""
    ) -> None:
        """Yes or no, the safe answer first (``ConfirmDialog``)."""

    def show_detail(self, detail: Detail) -> None:
        """Everything about one item, scrollable; Esc closes (``DetailScreen``)."""

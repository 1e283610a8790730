"""The screen side of ``Asks``: it opens the dialog a board part asked for."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from accord.protocol.commands import Propose, RecordDecision
from accord.protocol.model import Session
from accord.tui.asks import NeedDraft, OptionDraft
from accord.tui.details import Detail
from accord.tui.dialogs.confirm import ConfirmDialog
from accord.tui.dialogs.decision_dialog import DecisionDialog
from accord.tui.dialogs.detail import DetailScreen
from accord.tui.dialogs.need_dialog import NeedDialog
from accord.tui.dialogs.option_dialog import OptionDialog
from accord.tui.dialogs.prompt import TextPrompt
from accord.tui.dialogs.propose_dialog import ProposeDialog
from textual.screen import Screen


class DialogHost(Screen[None]):
    """A screen that answers its parts' ``Asks`` by pushing the matching dialog."""

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
        prompt = TextPrompt(
            title,
            label=label,
            initial=initial,
            placeholder=placeholder,
            explain=explain,
            max_length=max_length,
            required=required,
            lines=lines,
            **({"required_message": required_message} if required_message else {}),
        )
        self.app.push_screen(prompt, done)

    def ask_need(
        self, title: str, done: Callable[[NeedDraft | None], None], initial: NeedDraft | None
    ) -> None:
        """A need with its reason and success measure (``NeedDialog``)."""
        self.app.push_screen(NeedDialog(title, initial), done)

    def ask_option(
        self, title: str, done: Callable[[OptionDraft | None], None], initial: OptionDraft | None
    ) -> None:
        """An option's kind, title and description (``OptionDialog``)."""
        self.app.push_screen(OptionDialog(title, initial), done)

    def ask_proposal(
        self,
        done: Callable[[Propose | None], None],
        options: list[tuple[str, str]],
        chosen: str,
        statement: str = "",
    ) -> None:
        """A proposal: an option and a statement (``ProposeDialog``)."""
        self.app.push_screen(ProposeDialog(options, chosen, statement), done)

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
        dialog = DecisionDialog(options, chosen, statement, dissent, today, session=session)
        self.app.push_screen(dialog, done)

    def ask_confirm(
        self, question: str, done: Callable[[bool | None], None], detail: str = "", yes: str = ""
    ) -> None:
        """Yes or no, the safe answer first (``ConfirmDialog``)."""
        dialog = ConfirmDialog(question, detail, yes) if yes else ConfirmDialog(question, detail)
        self.app.push_screen(dialog, done)

    def show_detail(self, detail: Detail) -> None:
        """Everything about one item, scrollable; Esc closes (``DetailScreen``)."""
        self.app.push_screen(DetailScreen(detail))

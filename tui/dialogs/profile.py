"""The first-run question: your display name and department, asked once and remembered."""

from __future__ import annotations

from accord.protocol import limits as L
from accord.tui.config import Profile
from accord.tui.dialogs.form import FormDialog, FormInput
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static


class ProfileScreen(FormDialog[Profile]):
    """Ask for the name others see and your department (for the department lens)."""

    def __init__(self, initial: Profile | None = None, where: str = "") -> None:
        super().__init__("Welcome to accord", "Enter: next / save · Esc: quit")
        self.initial = initial or Profile()
        self.where = where

    def fields(self) -> ComposeResult:
        """Explanation, name, department."""
        saved = f" It is saved in {self.where}." if self.where else ""
        yield Static(
            "Others see your name and department on the board. The department lets the "
            f"group see where departments agree or differ about needs.{saved}",
            classes="form-text",
        )
        yield Label("Display name", classes="field-label")
        yield FormInput(self.initial.name, max_length=L.NAME_CHARS, id="name", compact=True)
        yield Label("Department or team (e.g. Finance, Operations)", classes="field-label")
        yield FormInput(
            self.initial.department, max_length=L.DEPARTMENT_CHARS, id="department", compact=True
        )

    def result(self) -> Profile | None:
        """The profile, if a name was given."""
        name = self.query_one("#name", Input).value.strip()
        if not name:
            self.complain("A display name is needed.")
            self.query_one("#name", Input).focus()
            return None
        department = self.query_one("#department", Input).value.strip()
        return Profile(name=name, department=department, server=self.initial.server)

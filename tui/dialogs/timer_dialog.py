"""The facilitator's dialog to start a timebox for the current phase."""

from __future__ import annotations

from accord.protocol import limits as L
from accord.protocol.commands import StartTimer
from accord.tui.dialogs.form import FormDialog, FormInput
from textual.app import ComposeResult
from textual.widgets import Input, Label


class TimerDialog(FormDialog[StartTimer]):
    """Ask for minutes (decimals allowed) and an optional label."""

    def __init__(self, minutes: str = "10") -> None:
        super().__init__("Start a timebox", "Enter: next / start · Esc: cancel")
        self.minutes = minutes

    def fields(self) -> ComposeResult:
        """Minutes and label."""
        yield Label("Minutes", classes="field-label")
        yield FormInput(self.minutes, type="number", id="minutes", compact=True)
        yield Label("Label (optional)", classes="field-label")
        yield FormInput("", max_length=L.SHORT_TEXT_CHARS, id="label", compact=True)

    def result(self) -> StartTimer | None:
        """The StartTimer command, if the minutes make sense."""
        try:
            seconds = round(float(self.query_one("#minutes", Input).value) * 60)
        except ValueError:
            seconds = 0
        if not 1 <= seconds <= L.MAX_TIMER_SECONDS:
            self.complain(f"Give between 1 second and {L.MAX_TIMER_SECONDS // 3600} hours.")
            return None
        return StartTimer(seconds=seconds, label=self.query_one("#label", Input).value.strip())

"""Every key counts: keys sent with no pause, and pastes, land in the right field in order."""

from __future__ import annotations

import unicodedata
from typing import Any

from accord.client import Connection
from accord.protocol.commands import AddNeed, SetPhase, SettleNeed
from accord.protocol.messages import Create
from accord.protocol.results import criteria
from accord.tui.app import AccordApp
from accord.tui.asks import NeedDraft
from accord.tui.dialogs.need_dialog import NeedDialog
from accord.tui.widgets.fields import LongText
from accord.tui.widgets.options import OptionsPanel
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Input, Static


def burst(app: App[Any], keys: list[str]) -> None:
    """Queue every key at once, as a paste without bracketing or a fast typist over SSH does."""
    driver = app._driver
    assert driver is not None
    for key in keys:
        char: str | None = key if len(key) == 1 else None
        if key == "space":
            char = " "
        if key == "plus":
            char = "+"
        if char is None:
            try:
                char = unicodedata.lookup(key.upper()) if key not in ("enter", "tab") else None
            except KeyError:
                char = None
        event = events.Key(key, char)
        event.set_sender(app)
        driver.send_message(event)


class DialogApp(App[None]):
    """An empty app that opens one need dialog and keeps its answer."""

    def __init__(self) -> None:
        super().__init__()
        self.answer: NeedDraft | None = None
        self.done = False

    def compose(self) -> ComposeResult:
        """Nothing but a line behind the dialog."""
        yield Static("behind")

    def on_mount(self) -> None:
        """Open the dialog."""

        def keep(answer: NeedDraft | None) -> None:
            self.answer, self.done = answer, True

        self.push_screen(NeedDialog(), keep)


def letters(text: str) -> list[str]:
    """Key names for ``text`` (letters and spaces)."""
    return ["space" if c == " " else c for c in text]


async def test_enter_then_text_at_machine_speed_fills_each_field(h: Any) -> None:
    """Need, Enter, why, Enter, success, Enter sent with no pause fill three fields and save."""
    app = DialogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await h.until(pilot, lambda: isinstance(app.screen, NeedDialog))
        keys = [*letters("fast"), "enter", *letters("why"), "enter", *letters("shows"), "enter"]
        burst(app, keys)
        await h.until(pilot, lambda: app.done)
    assert app.answer == NeedDraft("fast", "why", "shows")


async def test_bracketed_paste_lands_in_the_focused_field(h: Any) -> None:
    """A bracketed paste goes to the field that has focus, in one piece, before later keys."""
    app = DialogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await h.until(pilot, lambda: isinstance(app.screen, NeedDialog))
        app.screen.query_one("#text", Input).post_message(events.Paste("Pasted need"))
        burst(app, ["enter", *letters("because"), "enter"])
        await h.until(pilot, lambda: app.screen.query_one("#why", LongText).value == "because")
        assert app.screen.query_one("#text", Input).value == "Pasted need"
        burst(app, ["enter"])
        await h.until(pilot, lambda: app.done)
    assert app.answer == NeedDraft("Pasted need", "because", "")


async def test_quick_weight_presses_add_up(relay: Any, h: Any) -> None:
    """Three + presses before any is acked raise a weight by three, like dot presses."""
    fac = Connection(relay.url, Create(question="Which way?", name="Fay"))
    await fac.start(timeout=10)
    await fac.send(SetPhase(phase="needs"))
    await fac.send(AddNeed(text="Cheap to run"))
    assert fac.session is not None
    need = next(iter(fac.session.needs))
    await fac.send(SettleNeed(need_id=need, cls="optional"))
    await fac.send(SetPhase(phase="options"))

    def weight() -> int:
        assert fac.session is not None
        return next(c.weight for c in criteria(fac.session) if c.need_id == need)

    start = weight()
    app = AccordApp(fac, cursor_blink=False)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = app.board.query_one(OptionsPanel)
        await h.until(pilot, lambda: panel.ctx is not None)
        burst(app, ["plus", "plus", "plus"])
        await h.until(pilot, lambda: weight() == start + 3, explain=lambda: str(weight()))
        await fac.send(SettleNeed(need_id=need, cls="optional"))  # a barrier after any 4th press
        assert weight() == start + 3
    await fac.close()


async def test_a_paste_of_several_lines_keeps_every_line(h: Any) -> None:
    """A multi-line paste into a one-line field keeps all its lines, joined by spaces."""
    app = DialogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await h.until(pilot, lambda: isinstance(app.screen, NeedDialog))
        field = app.screen.query_one("#text", Input)
        field.post_message(events.Paste("Minimum term\n12 months"))
        await h.until(pilot, lambda: field.value == "Minimum term 12 months")


async def test_keys_typed_right_after_a_dialog_key_reach_the_dialog(
    board: Any, preview: Any, h: Any
) -> None:
    """``a`` then the need's text with no pause: the text fills the dialog, not board keys."""
    app = preview(board("needs"), "Priya")
    async with app.run_test(size=(100, 30)) as pilot:
        keys = ["a", *letters("need fast"), "enter", *letters("no time"), "enter"]
        burst(app, [*keys, *letters("on phones"), "enter"])
        await h.until(pilot, lambda: bool(app.board.conn.sent), explain=lambda: str(app.screen))
        sent = app.board.conn.sent
        assert sent == [AddNeed(text="need fast", why="no time", success="on phones")]
        assert not isinstance(app.screen, NeedDialog)

"""Hostile text on the board: shown as plain characters, never obeyed, never parsed as markup.

An accord relay refuses such text, so these boards are built in-process, as a
relay that is not accord's could deliver them. Long-form fields take several
lines; pastes that do not fit are cut or joined with a message, never dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from accord.protocol.commands import AddCard, AddNeed, AddOption, SetPhase
from accord.protocol.text import ONE_LINE
from accord.tui.app import AccordApp
from accord.tui.dialogs.confirm import ConfirmDialog
from accord.tui.dialogs.form import FormDialog
from accord.tui.widgets.fields import LineInput, LongText
from rich.segment import Segment
from textual import events
from textual.pilot import Pilot
from textual.widgets import Static

LINK = "[link=http://x]click[/link]"
BOLD = "[b]Bold Bob[/b]"
TITLE = "Eve\x1b]0;owned\x07"
CLEAR = "Ops\x1b[2J"
FLIP = "Mal\u202elory"


def hostile_board(b: Any) -> None:
    """Members, a card and an option whose text is markup, escapes and bidi controls."""
    b.join("Fay", "facilitator", "Product")
    b.ids[LINK] = b.join(LINK, "participant", BOLD)
    b.ids[TITLE] = b.join(TITLE, "participant", CLEAR)
    b.ids[FLIP] = b.join(FLIP, "participant", "\x9b2J")
    b.do(LINK, AddCard("value", f"{BOLD} \x1b[31mred\x1b[0m {LINK}"))
    b.do(TITLE, AddCard("no_change", f"Hidden\x1b[8m text {FLIP}"))


def screen_lines(app: AccordApp) -> Iterator[list[Segment]]:
    """The segments of each screen line as the terminal would get them (toasts included)."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    for line in update.strips:  # type: ignore[union-attr]
        yield [seg for strip in line for seg in strip]


def assert_plain(app: AccordApp) -> str:
    """Nothing on screen is a control or bidi character or a link; returns the screen's text."""
    lines = []
    for line in screen_lines(app):
        for seg in line:
            assert ONE_LINE.search(seg.text) is None, repr(seg.text)
            assert seg.style is None or seg.style.link is None, seg
            assert seg.style is None or "@click" not in (seg.style.meta or {}), seg
        lines.append("".join(seg.text for seg in line))
    return "\n".join(lines)


async def test_hostile_names_and_cards_render_as_plain_text(
    board: Any, preview: Any, h: Any
) -> None:
    """Markup shows as typed, escapes as visible pictures, on the board and in toasts."""
    b = board("learn")
    b.session.members.clear()
    hostile_board(b)
    app = preview(b, "Fay")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await h.until(pilot, lambda: "Bold Bob" in h.screen_text(app))
        app.notify(f"{TITLE} {LINK}", title=BOLD)
        await h.until(pilot, lambda: bool(app.screen.query("Toast")))
        await pilot.pause()
        shown = assert_plain(app)
        assert "[link=http://x]cli" in shown and BOLD in shown
        assert "Eve\u241b]0;owned " in shown  # ESC as a Control Picture, on the board
        assert "Ops\u241b[2J" in shown and "\u241b[31mred" in shown
        assert "Mal\ufffdlory" in shown
        said = h.widget_text(app.board.query_one("#messages"))  # notices show in the sidebar
        assert "Eve\u241b]0;owned\u2407" in said and "[link=http://x]click[/link]" in said


async def test_dialogs_show_hostile_titles_as_text(board: Any, preview: Any, h: Any) -> None:
    """A confirmation naming a hostile option and a note prompt titled by it stay plain."""
    b = board("learn")
    b.do("Fay", SetPhase("options"))
    b.do("Fay", AddOption("partnership", f"{LINK} \x1b[2J{FLIP}"))
    app = preview(b, "Fay")
    async with app.run_test(size=(120, 36)) as pilot:
        app.push_screen(ConfirmDialog(f"Delete {LINK}?", f"{TITLE} and its notes.", "Delete"))
        await h.until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.pause()
        shown = assert_plain(app)
        assert f"Delete {LINK}?" in shown and "Eve\u241b]0;owned" in shown
        await pilot.press("n")
        await h.until(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
        await pilot.press("down", "n")  # a note on the hostile option
        await h.until(pilot, lambda: isinstance(app.screen, FormDialog))
        await pilot.pause()
        assert f"Note on {LINK} \u241b[2J" in assert_plain(app)


async def paste(pilot: Pilot[Any], text: str) -> None:
    """Paste ``text`` into the focused field, as a terminal delivers a paste."""
    focused = pilot.app.focused
    assert focused is not None
    focused.post_message(events.Paste(text))
    await pilot.pause()


def form_message(app: AccordApp) -> str:
    """The form's message line."""
    return str(app.screen.query_one("#form-error", Static).render())


async def test_long_paste_is_cut_with_a_message(board: Any, preview: Any, h: Any) -> None:
    """A paste over the limit keeps what fits and says so; typing at the limit says so too."""
    b = board("learn")
    app = preview(b, "Priya")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("a")
        await h.until(pilot, lambda: isinstance(app.focused, LongText))
        await paste(pilot, "x" * 700)
        field = app.focused
        assert isinstance(field, LongText) and field.value == "x" * 500
        assert "Cut to fit" in form_message(app) and "500" in form_message(app)
        await pilot.press("y")
        assert field.value == "x" * 500
        assert "full" in form_message(app)


async def test_multi_line_paste_into_one_line_field_is_joined(
    board: Any, preview: Any, h: Any
) -> None:
    """A need's text is one line: pasted lines are joined, tabs become spaces, with a message."""
    b = board("learn")
    b.do("Fay", SetPhase("needs"))
    app = preview(b, "Priya")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("a")
        await h.until(pilot, lambda: isinstance(app.focused, LineInput))
        await paste(pilot, "Refunds\r\nwithin\ta day\x1b[2J")
        field = app.focused
        assert isinstance(field, LineInput) and field.value == "Refunds within a day[2J"
        assert "Joined" in form_message(app)
        await pilot.press("enter")  # on to why it matters, which takes lines
        await h.until(pilot, lambda: isinstance(app.focused, LongText))
        await paste(pilot, "Customers leave\nwhen refunds are slow")
        await pilot.press("ctrl+j", *"Really.")
        why = app.focused
        assert isinstance(why, LongText)
        assert why.value == "Customers leave\nwhen refunds are slow\nReally."


async def test_multi_line_card_reaches_the_relay_whole(relay: Any, h: Any) -> None:
    """A card typed on several lines arrives at another member with its line breaks."""
    from accord.client import Connection
    from accord.protocol.messages import Create, Hello

    fac = Connection(relay.url, Create(question="Which way?", name="Fay"))
    await fac.start(timeout=10)
    assert fac.secrets is not None
    pat = Connection(relay.url, Hello(code=fac.secrets.participant_code, name="Pat"))
    await pat.start(timeout=10)
    app = AccordApp(pat, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("a")
        await h.until(pilot, lambda: isinstance(app.focused, LongText))
        await paste(pilot, "First line")
        await pilot.press("ctrl+j")
        await paste(pilot, "Second line")
        await pilot.press("enter")
        await h.until(
            pilot,
            lambda: (
                fac.session is not None
                and [c.text for c in fac.session.live_cards()] == ["First line\nSecond line"]
            ),
            explain=lambda: f"{fac.session.cards if fac.session else None}",
        )
        # the board shows a card's lines run together; the record and the data keep them
        await h.until(pilot, lambda: "First line Second" in h.screen_text(app))
    await fac.close()
    await pat.close()


def test_the_commands_the_dialogs_build_pass_the_policy() -> None:
    """What the forms send after tidying is accepted by the codec (no raw tabs or CRs)."""
    from accord.protocol import codec
    from accord.protocol.messages import Cmd
    from accord.protocol.text import tidy

    card = AddCard("value", tidy("One\r\nTwo\tThree\x07", multiline=True))
    need = AddNeed(tidy("One\r\nTwo"), why=tidy("a\r\nb", multiline=True))
    for command in (card, need):
        data = codec.encode(Cmd(op="o1", c=command))
        assert codec.decode_client(data) == Cmd(op="o1", c=command)
    assert card.text == "One\nTwo Three"


async def test_arrows_move_between_one_line_and_multi_line_fields(
    board: Any, preview: Any, h: Any
) -> None:
    """↓ and ↑ walk through the need dialog's fields, multi-line ones included."""
    b = board("learn")
    b.do("Fay", SetPhase("needs"))
    app = preview(b, "Priya")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("a")
        await h.until(pilot, lambda: isinstance(app.focused, LineInput))
        seen = []
        for key in ("down", "down", "up", "up"):
            await pilot.press(key)
            seen.append(app.focused.id if app.focused else None)
        assert seen == ["why", "success", "why", "text"]


async def test_a_foreign_relay_cannot_put_escapes_on_the_board(h: Any) -> None:
    """Frames with refused text from a relay that is not accord's are dropped with a notice."""
    from accord.client import Connection
    from accord.protocol import codec
    from accord.protocol.events import Event, MemberJoined
    from accord.protocol.messages import Hello, Welcome
    from accord.protocol.model import Member, new_session
    from websockets.asyncio.server import ServerConnection, serve

    session = new_session("s1", "Which way?", 1.8e9)
    session.members["m1"] = Member(id="m1", name="Fay", role="facilitator")
    session.members["m2"] = Member(id="m2", name="Pat", role="participant")
    session.seq = 2
    hostile = Member(id="m3", name="Eve\x1b]0;owned\x07", role="participant", department=CLEAR)
    welcome = Welcome("s1", "m2", "participant", "e1", 2, "snapshot", session, token="t" * 40)

    board_up = asyncio.Event()

    async def foreign_relay(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(codec.encode(welcome))  # the encoder checks nothing: a foreign relay
        await board_up.wait()
        await ws.send(codec.encode(Event(3, 1.8e9, "m3", MemberJoined(hostile))))
        await ws.wait_closed()

    async with serve(foreign_relay, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        conn = Connection(f"ws://127.0.0.1:{port}", Hello(code="c", name="Pat"))
        await conn.start(timeout=10)
        app = AccordApp(conn, cursor_blink=False)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await h.until(pilot, lambda: "Pat" in h.screen_text(app))
            board_up.set()
            box = app.board.query_one("#messages")
            await h.until(
                pilot,
                lambda: "ignored a frame from the relay" in " ".join(h.widget_text(box).split()),
            )
            await pilot.pause()
            assert_plain(app)
            assert conn.session is not None and "m3" not in conn.session.members
            assert "Eve" not in h.screen_text(app)
        await conn.close()

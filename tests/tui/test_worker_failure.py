"""A network task that dies on a bug is loud: the board says so, logs it, and R reconnects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accord.client import Applied, Connection, Update
from accord.protocol.commands import AddCard
from accord.protocol.messages import Create, Hello
from accord.tui.app import AccordApp
from accord.tui.widgets.sidebar import LinkBox


async def test_a_failed_connection_task_shows_and_offers_a_reconnect(
    relay: Any, h: Any, private_dirs: Path
) -> None:
    """A bug in the connection task turns "connected" into a clear failure; R brings it back."""
    fac = Connection(relay.url, Create(question="Which way?", name="Fay"))
    await fac.start(timeout=10)
    assert fac.secrets is not None
    app = AccordApp(fac, cursor_blink=False)
    async with app.run_test(size=(110, 30)) as pilot:
        link = app.board.query_one(LinkBox)
        await h.until(pilot, lambda: "● connected" in h.widget_text(link))

        def broken(update: Update) -> None:
            """A listener with a bug: it fails on the first applied event."""
            if isinstance(update, Applied):
                raise RuntimeError("a listener bug")

        remove = fac.add_listener(broken)
        priya = Connection(relay.url, Hello(code=fac.secrets.participant_code, name="Priya"))
        await priya.start(timeout=10)  # her join is an event: the connection task dies on it
        await h.until(
            pilot, lambda: "crash.log" in h.widget_text(link), explain=lambda: h.widget_text(link)
        )
        shown = " ".join(h.widget_text(link).split())
        assert "connection task failed; details in crash.log" in shown
        assert "R reconnects" in shown
        assert "● connected" not in shown
        assert app.is_running  # the app stays up; only the network task died
        log = (private_dirs / "data" / "crash.log").read_text(encoding="utf-8")
        assert "a listener bug" in log and "Traceback" in log

        remove()
        await pilot.press("R")
        await h.until(pilot, lambda: "● connected" in h.widget_text(link))
        await priya.send(AddCard("value", "After the reconnect"))
        await h.until(pilot, lambda: "After the reconnect" in h.screen_text(app))
        await priya.close()
    await fac.close()

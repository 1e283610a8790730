"""Optimistic but honest: a card typed during an outage shows at once, marked as waiting."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from accord.client import Connection
from accord.protocol.messages import Create
from accord.tui.app import AccordApp
from accord.tui.widgets.learn import LearnPanel
from textual import events


def quick() -> Generator[float]:
    """Reconnect delays for tests: retry every 100 ms."""
    while True:
        yield 0.1


async def test_card_typed_offline_shows_waiting_then_lands_once(relay_factory: Any, h: Any) -> None:
    """While the relay is down your card shows in its lane as waiting; after it, just once."""
    relay = await relay_factory()
    port = relay.port
    fac = Connection(relay.url, Create(question="Which way?", name="Fay"), delays=quick)
    await fac.start(timeout=10)
    app = AccordApp(fac, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        lanes = app.board.query_one(LearnPanel)

        def shown() -> str:
            return " ".join(str(h.widget_text(lanes)).split())

        await relay.close()
        await h.until(pilot, lambda: fac.link.kind != "connected")
        await pilot.press("a")
        await h.until(pilot, lambda: app.focused is not None and app.screen is not app.board)
        assert app.focused is not None
        app.focused.post_message(events.Paste("Cards while offline"))
        await pilot.pause()
        await pilot.press("enter")
        await h.until(pilot, lambda: "◌ Cards while offline" in shown(), 5, shown)
        assert "waiting to send" in shown()
        assert fac.session is not None and not fac.session.cards
        back = await relay_factory(port=port, data_dir=relay.config.data_dir)
        await h.until(pilot, lambda: bool(fac.session and fac.session.cards), 15, shown)
        await h.until(pilot, lambda: "waiting to send" not in shown(), 5, shown)
        assert shown().count("Cards while offline") == 1
        await back.close()
    await fac.close()

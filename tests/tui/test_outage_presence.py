"""During an outage the relay, not the facilitator, is shown as what is down, with for how long."""

from __future__ import annotations

from typing import Any

from accord.client import Connection
from accord.protocol.messages import Create, Hello
from accord.tui.app import AccordApp
from accord.tui.widgets.sidebar import MemberList


async def test_presence_blames_the_relay_during_an_outage(relay_factory: Any, h: Any) -> None:
    """With the relay gone, nobody is shown online; the list says how long it is unreachable."""
    relay = await relay_factory()
    port = relay.port
    fac = Connection(relay.url, Create(question="Which way?", name="Fay"))
    await fac.start(timeout=10)
    assert fac.secrets is not None
    priya = Connection(relay.url, Hello(code=fac.secrets.participant_code, name="Priya"))
    await priya.start(timeout=10)
    app = AccordApp(priya, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        members = app.board.query_one(MemberList)

        def rows() -> str:
            return str(h.widget_text(members))

        def flat() -> str:
            return " ".join(rows().split())

        await h.until(pilot, lambda: "2/2 here" in rows(), explain=rows)
        fay_row = next(line for line in rows().splitlines() if "Fay" in line)
        assert fay_row.lstrip().startswith("●")
        await relay.close()
        await h.until(pilot, lambda: "relay unreachable for" in flat(), explain=rows)
        await h.until(pilot, lambda: "unreachable for 1 s" in flat(), timeout=5, explain=rows)
        fay_row = next(line for line in rows().splitlines() if "Fay" in line)
        assert fay_row.lstrip().startswith("?") and "●" not in fay_row
        back = await relay_factory(port=port, data_dir=relay.config.data_dir)
        await h.until(pilot, lambda: "here" in rows() and "unreachable" not in rows(), 20, rows)
        await back.close()
    await priya.close()
    await fac.close()

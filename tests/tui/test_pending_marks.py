"""Pending marks: your classes, scores and dots show at once, marked, until the relay answers."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from accord.client import Connection
from accord.protocol.commands import AddNeed, Cast, OpenVote, SetPhase, SettleNeed
from accord.protocol.messages import Create
from accord.tui.app import AccordApp
from accord.tui.messages import Submit
from accord.tui.widgets.needs import NeedsPanel
from accord.tui.widgets.options import OptionsPanel
from accord.tui.widgets.sidebar import LinkBox


def quick() -> Generator[float]:
    """Reconnect delays for tests: retry every 100 ms."""
    while True:
        yield 0.1


def my_mark(h: Any, panel: NeedsPanel) -> str:
    """The "you" column of the first need's row, as drawn."""
    text: str = h.widget_text(panel)
    return next(line for line in text.splitlines() if "Fast refunds" in line)


async def test_class_typed_in_an_outage_shows_marked_then_turns_normal_on_ack(
    relay_factory: Any, h: Any
) -> None:
    """During an outage ``m`` shows "must·" at once; after the relay is back and acks, "must"."""
    relay = await relay_factory()
    port = relay.port
    fac = Connection(relay.url, Create(question="Which way?", name="Fay"), delays=quick)
    await fac.start(timeout=10)
    await fac.send(SetPhase("needs"))
    await fac.send(AddNeed("Fast refunds", "", ""))
    await fac.send(OpenVote(kind="classify"))
    app = AccordApp(fac, cursor_blink=False)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = app.board.query_one(NeedsPanel)
        link = app.board.query_one(LinkBox)
        await h.until(pilot, lambda: "Fast refunds" in h.widget_text(panel))
        await relay.close()
        await h.until(pilot, lambda: "reconnecting" in h.widget_text(link))

        await pilot.press("m")
        await h.until(pilot, lambda: "must·" in my_mark(h, panel))
        vote = fac.session.open_vote("classify") if fac.session else None
        assert vote is not None and fac.member_id not in vote.ballots  # not in the session yet

        await relay_factory(port=port, data_dir=relay.config.data_dir)
        await h.until(pilot, lambda: not fac.outbox, 15)
        await h.until(pilot, lambda: "must·" not in my_mark(h, panel))
        assert " must " in my_mark(h, panel)
        vote = fac.session.open_vote("classify") if fac.session else None
        assert vote is not None and vote.ballots[fac.member_id].marks
    await fac.close()


async def test_refused_answer_is_undone_with_a_message(relay: Any, h: Any) -> None:
    """A ballot the relay refuses leaves no pending mark and says it was undone."""
    fac = Connection(relay.url, Create(question="Which way?", name="Fay"))
    await fac.start(timeout=10)
    await fac.send(SetPhase("needs"))
    await fac.send(AddNeed("Fast refunds", "", ""))
    await fac.send(OpenVote(kind="classify"))
    assert fac.session is not None
    vote = fac.session.open_vote("classify")
    need = next(iter(fac.session.needs))
    assert vote is not None
    app = AccordApp(fac, cursor_blink=False)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = app.board.query_one(NeedsPanel)
        await h.until(pilot, lambda: "Fast refunds" in h.widget_text(panel))
        app.board.post_message(Submit(Cast(vote_id=vote.id, marks={need: 9})))  # not a class
        await h.until(
            pilot, lambda: any("answer is undone" in n.message for n in app._notifications)
        )
        assert not fac.outbox
        assert "·" not in my_mark(h, panel)
        assert fac.member_id not in vote.ballots
    await fac.close()


async def test_score_typed_in_an_outage_shows_marked_then_turns_normal(
    relay_factory: Any, h: Any
) -> None:
    """A score typed while the relay is down shows as "3·" in the grid, then "3" once acked."""
    relay = await relay_factory()
    port = relay.port
    fac = Connection(relay.url, Create(question="Which way?", name="Fay"), delays=quick)
    await fac.start(timeout=10)
    await fac.send(SetPhase("needs"))
    await fac.send(AddNeed("Fast refunds", "", ""))
    assert fac.session is not None
    await fac.send(SettleNeed(next(iter(fac.session.needs)), "optional"))
    await fac.send(SetPhase("options"))
    await fac.send(OpenVote(kind="score"))
    app = AccordApp(fac, cursor_blink=False)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = app.board.query_one(OptionsPanel)

        def baseline_row() -> str:
            text: str = h.widget_text(panel)
            return next(line for line in text.splitlines() if "No change" in line)

        await h.until(pilot, lambda: "C1 w3" in h.widget_text(panel))
        await relay.close()
        await h.until(pilot, lambda: fac.link.kind == "reconnecting")
        await pilot.press("3")
        await h.until(pilot, lambda: "3·" in baseline_row())
        await relay_factory(port=port, data_dir=relay.config.data_dir)
        await h.until(pilot, lambda: not fac.outbox, 15)
        await h.until(pilot, lambda: "3·" not in baseline_row())
        assert " 3 " in baseline_row()
    await fac.close()

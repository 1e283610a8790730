"""A hidden vote on a participant's screen: who voted shows, what they voted does not."""

from __future__ import annotations

from typing import Any

from accord.client import Connection
from accord.protocol.commands import AddNeed, Cast, OpenVote, RevealVote, SetPhase
from accord.protocol.messages import Create, Hello
from accord.protocol.model import CLASS_MARK
from accord.tui.app import AccordApp
from accord.tui.widgets.needs import NeedsPanel


def row_of(text: str, needle: str) -> str:
    """The line of ``text`` that mentions ``needle``."""
    return next(line for line in text.splitlines() if needle in line)


async def test_participant_sees_counts_not_ballots_until_reveal(relay: Any, h: Any) -> None:
    """Marco sees "1/3 voted" but not Priya's class; after the reveal he sees the split."""
    fac = Connection(relay.url, Create(question="Which way?", name="Fay", department="Product"))
    await fac.start(timeout=10)
    assert fac.secrets is not None
    code = fac.secrets.participant_code
    priya = Connection(relay.url, Hello(code=code, name="Priya", department="Finance"))
    marco = Connection(relay.url, Hello(code=code, name="Marco", department="Operations"))
    await priya.start(timeout=10)
    await marco.start(timeout=10)
    await fac.send(SetPhase("needs"))
    await priya.send(AddNeed("Data stays in the EU", "Regulation", "Audit passes"))
    await fac.send(OpenVote(kind="classify", hidden=True))
    assert fac.session is not None
    vote_id = next(iter(fac.session.votes))
    need_id = next(iter(fac.session.needs))

    app = AccordApp(marco, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.board.query_one(NeedsPanel)
        await priya.send(Cast(vote_id, {need_id: CLASS_MARK["must"]}))
        await h.until(pilot, lambda: "1/3 voted" in h.widget_text(panel))
        row = row_of(h.widget_text(panel), "Data stays in the EU")
        assert "must" not in row and "1·0·0" not in row
        assert marco.session is not None
        assert set(marco.session.votes[vote_id].ballots) == set()

        await pilot.press("o")
        await h.until(pilot, lambda: "2/3 voted" in h.widget_text(panel))
        row = row_of(h.widget_text(panel), "Data stays in the EU")
        assert "opt" in row and "must" not in row
        assert set(marco.session.votes[vote_id].ballots) == {marco.member_id}

        await fac.send(RevealVote(vote_id))
        await h.until(pilot, lambda: "1·1·0" in h.widget_text(panel))
        assert set(marco.session.votes[vote_id].ballots) == {priya.member_id, marco.member_id}
    for conn in (fac, priya, marco):
        await conn.close()

"""A whole session through the apps: a facilitator and two participants on one real relay."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from accord.client import Connection
from accord.protocol.messages import Create, Hello
from accord.tui.app import AccordApp
from accord.tui.cli import main
from textual import events
from textual.pilot import Pilot

QUESTION = "Partner with PayCo, build payments ourselves, or outsource?"
RECORD_SECTIONS = [
    "# Decision record",
    "## Decision",
    "## Participants",
    "## The big picture",
    "## Needs",
    "## Criteria",
    "## Options",
    "## Scores and ranking",
    "## Consensus rounds",
    "## Dissent",
    "## Review",
]


async def connect(relay: Any) -> tuple[Connection, Connection, Connection]:
    """The facilitator creates the session; two participants join with its code."""
    fac = Connection(relay.url, Create(question=QUESTION, name="Fay", department="Product"))
    await fac.start(timeout=10)
    assert fac.secrets is not None
    code = fac.secrets.participant_code
    priya = Connection(relay.url, Hello(code=code, name="Priya", department="Finance"))
    marco = Connection(relay.url, Hello(code=code, name="Marco", department="Operations"))
    await priya.start(timeout=10)
    await marco.start(timeout=10)
    return fac, priya, marco


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Paste ``text`` into the focused input, as a terminal delivers a paste."""
    focused = pilot.app.focused
    assert focused is not None, "nothing has focus to type into"
    focused.post_message(events.Paste(text))
    await pilot.pause()


@pytest.mark.slow
async def test_three_apps_reach_a_recorded_decision(relay: Any, h: Any, tmp_path: Path) -> None:
    """Facilitator and participants go Learn → Needs → Options → Decide and agree on screen."""
    conns = await connect(relay)
    fac, priya, _ = conns
    apps = [
        AccordApp(c, cursor_blink=False, records_dir=tmp_path / "records", export_dir=tmp_path)
        for c in conns
    ]
    size = (100, 30)
    async with (
        apps[0].run_test(size=size) as fp,
        apps[1].run_test(size=size) as pp,
        apps[2].run_test(size=size) as mp,
    ):
        pilots = [fp, pp, mp]

        async def everyone_sees(*snippets: str) -> None:
            """All three connections are at the same seq and every screen shows ``snippets``."""
            for app, pilot in zip(apps, pilots, strict=True):
                await h.until(
                    pilot,
                    lambda app=app: all(s in h.screen_text(app) for s in snippets),
                    explain=lambda app=app: f"wanted {snippets} in:\n{h.screen_text(app)}",
                )
            await h.until(fp, lambda: len({c.session.seq if c.session else -1 for c in conns}) == 1)
            assert len({c.session.phase if c.session else None for c in conns}) == 1

        def session() -> Any:
            return fac.session

        # ---- Learn: cards in two lanes, a hidden dot vote, the reveal
        await pp.press("a")
        await type_text(pp, "Lower fees")
        await pp.press("enter")
        await mp.press("right", "a")
        await type_text(mp, "Slow refunds")
        await mp.press("enter")
        await everyone_sees("Lower fees", "Slow refunds")
        await fp.press("v")
        await fp.press("ctrl+s")
        await h.until(fp, lambda: session().open_vote("dots") is not None)
        await pp.press("space")
        await mp.press("space")
        await everyone_sees("2/3")
        await fp.press("V")
        await everyone_sees("Dot vote revealed", "● 1")

        # ---- Needs: two proposals, a hidden classification, the facilitator settles
        await fp.press("right_square_bracket")
        await everyone_sees("2 Needs", "No needs yet")
        await pp.press("a")
        for text in ("Total cost within budget", "The board capped spend", "Year one in plan"):
            await type_text(pp, text)
            await pp.press("enter")
        await mp.press("a")
        for text in ("Refunds within one day", "Customers complain", "90% in 24 hours"):
            await type_text(mp, text)
            await mp.press("enter")
        await everyone_sees("Total cost within budget", "Refunds within one day")
        await fp.press("v")
        await fp.press("ctrl+s")
        await h.until(fp, lambda: session().open_vote("classify") is not None)
        await fp.press("m", "o")
        await pp.press("m", "m")
        await mp.press("m", "o")
        await everyone_sees("3/3")
        await fp.press("V")
        await everyone_sees("Classification revealed", "3·0·0")
        await fp.press("up", "up", "M", "down", "O")
        await everyone_sees("[MUST] Total cost", "[OPT ] Refunds")

        # ---- Options: an option, criteria from needs, hidden scoring, the ranking
        await fp.press("right_square_bracket")
        await everyone_sees("3 Options", "No change", "C1 p/f", "C2 w3")
        await pp.press("a", "enter")  # the dialog starts on the kind: Enter keeps "partnership"
        await type_text(pp, "Partner with PayCo")
        await pp.press("enter", "enter")
        await everyone_sees("Partner with PayCo")
        await fp.press("v")
        await fp.press("ctrl+s")
        await h.until(fp, lambda: session().open_vote("score") is not None)
        for pilot, keys in ((fp, "f1p4"), (pp, "f0p5"), (mp, "f2p3")):
            await pilot.press(*keys)
        await h.until(
            fp, lambda: len(session().open_vote("score").voters) == 3 and priya.outbox == {}
        )
        await everyone_sees("Scoring hidden", "3/3")
        await fp.press("V")
        await everyone_sees("Scoring revealed", "#1 4.00", "✗gate")

        # ---- Decide: proposal, a fist-of-five round, the decision
        await fp.press("right_square_bracket")
        await everyone_sees("4 Decide", "No proposal yet")
        await fp.press("p")
        await type_text(fp, "We partner with PayCo for payments")
        await fp.press("ctrl+s")
        await everyone_sees("Proposal:", "We partner with PayCo for payments")
        await fp.press("v")
        await fp.press("ctrl+s")
        await h.until(fp, lambda: session().open_vote("consensus") is not None)
        await fp.press("4")
        await pp.press("5")
        await mp.press("3")
        await everyone_sees("3/3")
        await fp.press("V")
        await everyone_sees("✓ passed", "3 hands, average 4.0, lowest 3")
        await fp.press("D")
        await fp.press("ctrl+s")
        await everyone_sees("Decision recorded", "Review on: 20")
        assert session().decision is not None
        assert session().decision.option_id == session().proposal.option_id

        saved = tmp_path / "records" / f"decision-{session().id}.md"
        await h.until(fp, saved.exists)

    data_dir = relay.config.data_dir
    out = tmp_path / "record.md"
    code = await asyncio.to_thread(
        main, ["export", session().id, "--data-dir", str(data_dir), "-o", str(out)]
    )
    assert code == 0
    record = out.read_text(encoding="utf-8")
    for section in RECORD_SECTIONS:
        assert section in record, section
    for fact in ("Lower fees", "Total cost within budget", "Partner with PayCo"):
        assert fact in record
    assert "### Round 1: Partner with PayCo, passed" in record
    assert "- Method: fist-of-five" in record
    assert saved.read_text(encoding="utf-8").startswith("# Decision record")
    for conn in conns:
        await conn.close()

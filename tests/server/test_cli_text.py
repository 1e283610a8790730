"""``accord sessions`` on stored hostile text: escapes on the operator's terminal, never raw."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from accord.protocol import events as E
from accord.protocol.model import Card, Member
from accord.protocol.text import MULTI_LINE
from accord.server.config import ServerConfig
from accord.server.storage import SqliteStore
from accord.server.store import Append, SessionInfo, StoredEvent, encode_event
from accord.tui.cli import main

#: An erase-line that would hide the row, a title set, a C1 CSI, a bidi flip, a stray line.
QUESTION = "Hide me\x1b[1A\x1b[2K\r"
NAME = "Eve\x1b]0;owned\x07"
DEPARTMENT = "Ops\x9b2J\u202e\n<!--"
CARD = "Card\x1b[2J"


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the user's own server.toml and data out of these tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


async def _store_hostile_session(data: Path) -> None:
    """Write a session the way an older, careless relay might have: straight into the store."""
    store = SqliteStore(ServerConfig(port=0, data_dir=data).db_path)
    await store.open()
    try:
        bodies: list[E.EventBody] = [
            E.SessionCreated(question=QUESTION),
            E.MemberJoined(Member(id="m1", name=NAME, role="facilitator", department=DEPARTMENT)),
            E.CardAdded(Card(id="c1", lane="value", text=CARD, author="m1")),
        ]
        events = [
            StoredEvent(seq, encode_event(E.Event(seq=seq, at=1.7e9, by="m1", body=body)))
            for seq, body in enumerate(bodies, start=1)
        ]
        info = SessionInfo(
            id="s-hostile", epoch="e1", question=QUESTION, created_at=1.7e9, seq=3, members=1
        )
        await store.create(Append("s-hostile", 0, events, info))
    finally:
        await store.close()


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_list_and_show_escape_stored_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """list, list --json and show print hostile stored text as visible characters only."""
    data = tmp_path / "data"
    asyncio.run(_store_hostile_session(data))
    where = ["--data-dir", str(data)]
    outputs = {}
    for action in (["list"], ["list", "--json"], ["show", "s-hostile"]):
        code, out, err = _run(["sessions", *action, *where], capsys)
        assert code == 0, err
        assert MULTI_LINE.search(out + err) is None, repr(out)
        outputs[" ".join(action)] = out
    assert "Hide me\\x1b[1A\\x1b[2K\\x0d" in outputs["list"]
    assert json.loads(outputs["list --json"])[0]["question"] == QUESTION
    # show rebuilds the session, and the store makes what an older relay let in visible
    shown = outputs["show s-hostile"]
    assert "Eve\ufffd]0;owned\ufffd (facilitator, Ops\ufffd2J\ufffd <!--)" in shown


def test_human_log_lines_escape_client_text() -> None:
    """A log line about a client's text shows its control characters as escapes."""
    import logging

    from accord.server.logs import HumanFormatter

    record = logging.makeLogRecord(
        {"msg": "refused %s", "args": (NAME,), "levelno": 20, "levelname": "INFO"}
    )
    record.reason = DEPARTMENT
    line = HumanFormatter().format(record)
    assert MULTI_LINE.search(line) is None and "\n" not in line, repr(line)
    assert "Eve\\x1b]0;owned\\x07" in line and "reason=Ops\\x9b2J\\u202e\\n<!--" in line

"""The ``accord`` command line prints what others wrote as visible escapes, never raw."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from accord.protocol.text import MULTI_LINE
from accord.tui.cli import main
from accord.tui.config import KeyStore, Membership, Profile, save_profile
from websockets.asyncio.server import ServerConnection, serve

HOSTILE = "Hide\x1b[1A\x1b[2K\x1b]0;owned\x07\u202e"


def test_resume_list_escapes_stored_text(capsys: pytest.CaptureFixture[str]) -> None:
    """A remembered session whose question holds escapes lists them as visible text."""
    KeyStore().remember(
        Membership(
            session_id="s1",
            server="ws://127.0.0.1:9",
            token="t" * 40,
            member_id="m2",
            role="participant",
            name="Ada",
            question=HOSTILE,
        )
    )
    assert main(["resume", "--list"]) == 0
    out = capsys.readouterr().out
    assert MULTI_LINE.search(out) is None, repr(out)
    assert "Hide\\x1b[1A\\x1b[2K\\x1b]0;owned\\x07\\u202e" in out


async def test_close_reason_of_a_foreign_relay_is_escaped() -> None:
    """A relay that is not accord's closes with an escape sequence: the error line shows it."""
    save_profile(Profile(name="Ada", department="Finance"))

    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.close(4001, HOSTILE)

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "accord.tui.cli",
            "join",
            "2222-3333-44444",
            "--server",
            f"ws://127.0.0.1:{port}",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(os.environ),
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = (out + err).decode()
    assert proc.returncode == 1, text
    assert MULTI_LINE.search(text.rstrip("\n")) is None, repr(text)
    assert "\\x1b[2K" in text and "Traceback" not in text

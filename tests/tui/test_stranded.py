"""Never stranded: resume keeps the relay's address, and a wrong relay is named in plain words."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from accord.client import Connection
from accord.protocol.messages import Create, Hello
from accord.tui.app import AccordApp
from accord.tui.cli_support import CliError, port_of, remember
from accord.tui.commands import _resume, reopen_relay
from accord.tui.config import KeyStore, Membership, data_dir
from accord.tui.widgets.sidebar import LinkBox
from accord.tui.words import plain_reason


async def hosted(relay_factory: Any) -> tuple[Membership, Any]:
    """A session created on an embedded-style relay in the data dir; its membership, its relay."""
    relay = await relay_factory(data_dir=data_dir())
    conn = Connection(relay.url, Create(question="Which way?", name="Fay"))
    await conn.start(timeout=10)
    remember(conn, relay.url, True, {"participant": "x"})
    await conn.close()
    found = KeyStore().find()
    assert found is not None
    return found, relay


async def test_resume_reuses_the_port(relay_factory: Any) -> None:
    """The embedded relay comes back on the port the session ran on, never a random one."""
    m, relay = await hosted(relay_factory)
    await relay.close()
    back, url, note, taken = await reopen_relay(m, None)
    try:
        assert back is not None and back.port == port_of(m.server)
        assert url == m.server and note == "" and taken == ""
        conn = Connection(url, Hello(token=m.token))
        await conn.start(timeout=10)  # the session is there again
        assert conn.session is not None and conn.session.question == "Which way?"
        await conn.close()
    finally:
        if back is not None:
            await back.close()


async def test_resume_on_a_taken_port_says_what_to_do(relay_factory: Any) -> None:
    """When another program holds the port, resume stops with what people must do."""
    m, relay = await hosted(relay_factory)
    port = port_of(m.server)
    await relay.close()
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", port))
    squatter.listen()
    try:
        with pytest.raises(CliError) as caught:
            await _resume(m)
    finally:
        squatter.close()
    text = str(caught.value)
    assert f"127.0.0.1:{port}" in text and "taken" in text
    assert "accord resume --port" in text and "accord resume --server" in text
    assert "\n" not in text


async def test_resume_where_another_relay_took_the_port(relay_factory: Any, tmp_path: Path) -> None:
    """A different relay on the old port: resume refuses to use it and says why, no jargon."""
    m, relay = await hosted(relay_factory)
    port = port_of(m.server)
    await relay.close()
    other = await relay_factory(data_dir=tmp_path / "other", port=port)
    try:
        with pytest.raises(CliError) as caught:
            await _resume(m)
    finally:
        await other.close()
    text = str(caught.value)
    assert "taken" in text and "token" not in text


async def test_resume_on_another_port_tells_participants(relay_factory: Any) -> None:
    """With --port the relay moves on purpose, and the note says what participants run."""
    m, relay = await hosted(relay_factory)
    await relay.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    back, url, note, _ = await reopen_relay(m, free)
    try:
        assert back is not None and back.port == free and url.endswith(f":{free}")
        assert f"accord resume --server ws://127.0.0.1:{free}" in note
    finally:
        if back is not None:
            await back.close()


def test_relay_words_are_plain() -> None:
    """The relay's "member token is not known here" reaches people as words they know."""
    text = plain_reason("this member token is not known here")
    assert "token" not in text and "accord resume --server" in text
    assert plain_reason("link lost") == "link lost"


async def test_board_on_a_different_relay_says_so_and_retries(
    relay_factory: Any, h: Any, tmp_path: Path
) -> None:
    """A participant whose relay was replaced sees why in plain words; R reconnects later."""
    first = await relay_factory(data_dir=tmp_path / "a")
    port = first.port
    fac = Connection(first.url, Create(question="Which way?", name="Fay"))
    await fac.start(timeout=10)
    assert fac.secrets is not None
    priya = Connection(first.url, Hello(code=fac.secrets.participant_code, name="Priya"))
    await priya.start(timeout=10)
    app = AccordApp(priya, cursor_blink=False)
    async with app.run_test(size=(110, 30)) as pilot:
        link = app.board.query_one(LinkBox)
        await h.until(pilot, lambda: "● connected" in h.widget_text(link))
        await fac.close()
        await first.close()
        stranger = await relay_factory(data_dir=tmp_path / "b", port=port)
        await h.until(
            pilot,
            lambda: "does not know this session" in " ".join(h.widget_text(link).split()),
            timeout=20,
            explain=lambda: h.widget_text(link),
        )
        shown = " ".join(h.widget_text(link).split())
        assert "token" not in shown and "R tries again" in shown
        assert "R" in {b.binding.key for b in app.active_bindings.values()}
        await stranger.close()
        again = await relay_factory(data_dir=tmp_path / "a", port=port)
        await pilot.press("R")
        await h.until(pilot, lambda: "● connected" in h.widget_text(link), timeout=20)
        await again.close()
    await priya.close()

"""The ``accord`` command line: one-line errors with non-zero exits, never a traceback."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from accord.client import Connection
from accord.protocol.commands import AddCard, SetReady
from accord.protocol.messages import Create
from accord.tui.cli import build_parser, main
from accord.tui.config import Profile, profile_path, save_profile


@pytest.fixture
def profile() -> Profile:
    """A saved profile, so commands do not ask for a name."""
    saved = Profile(name="Ada", department="Finance")
    save_profile(saved)
    return saved


async def run_cli(*args: str) -> tuple[int, str, str]:
    """Run ``accord ARGS`` in a child process; return its exit code, stdout and stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "accord.tui.cli",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ),
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    """``accord --help`` names the client's commands and the relay's."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = capsys.readouterr().out
    for command in ("host", "join", "resume", "demo", "export", "serve", "sessions"):
        assert command in text


def test_badly_shaped_code_is_refused_locally(
    profile: Profile, capsys: pytest.CaptureFixture[str]
) -> None:
    """A code that cannot be a join code is refused before any network call, exit 2."""
    assert main(["join", "hello", "--server", "ws://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a join code" in err


async def test_unknown_code_on_a_live_relay(relay: Any, profile: Profile) -> None:
    """A well-formed code the relay does not know: one line, exit 1, no traceback."""
    code, out, err = await run_cli("join", "2222-3333-44444", "--server", relay.url)
    assert code == 1
    assert err.strip().count("\n") == 0, err
    assert "code" in err and "Traceback" not in err
    assert out == ""


async def test_unreachable_server(profile: Profile, unused_tcp_port: int) -> None:
    """Nobody listening at the URL: one line naming it, exit 1, no traceback."""
    url = f"ws://127.0.0.1:{unused_tcp_port}"
    code, _, err = await run_cli("join", "2222-3333-44444", "--server", url)
    assert code == 1
    assert "cannot reach the relay" in err and url in err
    assert "Traceback" not in err and err.strip().count("\n") == 0


def test_wrong_url_scheme(profile: Profile, capsys: pytest.CaptureFixture[str]) -> None:
    """An http:// URL is not a relay URL: exit 2 with what one looks like."""
    assert main(["join", "2222-3333-44444", "--server", "http://example.org"]) == 2
    assert "ws://host:port" in capsys.readouterr().err


def test_bad_config_file(capsys: pytest.CaptureFixture[str]) -> None:
    """A broken config.toml is named in one line, exit 2."""
    path = profile_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('name = "Ada\n', encoding="utf-8")
    assert main(["join", "2222-3333-44444"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "TOML" in err and err.count("\n") == 1


def test_config_with_wrong_type(capsys: pytest.CaptureFixture[str]) -> None:
    """A setting of the wrong type is named, exit 2."""
    path = profile_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("name = 42\n", encoding="utf-8")
    assert main(["join", "2222-3333-44444"]) == 2
    assert "name must be a string" in capsys.readouterr().err


def test_no_profile_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a terminal to ask in, a missing name is explained instead of prompting."""
    assert main(["join", "2222-3333-44444", "--server", "ws://127.0.0.1:9"]) == 1
    assert "no display name yet" in capsys.readouterr().err


def test_resume_with_nothing_to_resume(capsys: pytest.CaptureFixture[str]) -> None:
    """``accord resume`` before any session says how to join one, exit 1."""
    assert main(["resume"]) == 1
    assert "accord join CODE" in capsys.readouterr().err


def test_export_without_stored_sessions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``accord export`` with an empty data dir says where it looked, exit 1."""
    assert main(["export", "--data-dir", str(tmp_path / "empty")]) == 1
    assert "no sessions are stored" in capsys.readouterr().err


async def test_export_writes_markdown_and_json(relay: Any, tmp_path: Path) -> None:
    """``accord export`` turns a stored session into the decision record in either format."""
    fac = Connection(relay.url, Create(question="Which way?", name="Fay"))
    await fac.start(timeout=10)
    await fac.send(AddCard("value", "Lower fees"))
    assert fac.session is not None
    folder = str(relay.config.data_dir)
    md, js = tmp_path / "r.md", tmp_path / "r.json"
    assert await asyncio.to_thread(main, ["export", "--data-dir", folder, "-o", str(md)]) == 0
    args = ["export", fac.session.id[:6], "--format", "json", "--data-dir", folder, "-o", str(js)]
    assert await asyncio.to_thread(main, args) == 0
    assert md.read_text().startswith("# Decision record: Which way?")
    assert '"question": "Which way?"' in js.read_text()
    assert "Lower fees" in md.read_text()
    await fac.close()


async def test_export_of_a_joined_session_goes_through_its_relay(
    relay: Any, tmp_path: Path
) -> None:
    """A participant with no local store exports the record with their saved member token."""
    from accord.protocol.messages import Hello
    from accord.tui.config import KeyStore, Membership

    fac = Connection(relay.url, Create(question="Which way?", name="Fay"))
    await fac.start(timeout=10)
    assert fac.secrets is not None
    priya = Connection(relay.url, Hello(code=fac.secrets.participant_code, name="Priya"))
    await priya.start(timeout=10)
    await fac.send(AddCard("value", "Lower fees"))
    assert priya.session is not None
    KeyStore().remember(
        Membership(
            priya.session.id, relay.url, priya.token, priya.member_id, "participant", "Priya", "?"
        )
    )
    out = tmp_path / "joined.md"
    assert await asyncio.to_thread(main, ["export", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Decision record: Which way?") and "Lower fees" in text
    await priya.close()
    await fac.close()


async def test_export_picks_the_session_you_took_part_in_last(
    relay_factory: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no id, export takes your latest session (here on a shared relay), and says which."""
    from accord.tui.cli_support import remember
    from accord.tui.config import data_dir

    local = await relay_factory(data_dir=data_dir())
    old = Connection(local.url, Create(question="An older local session?", name="Fay"))
    await old.start(timeout=10)
    remember(old, local.url, True, {})
    await old.close()
    shared = await relay_factory()
    new = Connection(shared.url, Create(question="Just run on a shared relay?", name="Fay"))
    await new.start(timeout=10)
    await new.send(AddCard("value", "Lower fees"))
    remember(new, shared.url, False, {})
    out = tmp_path / "latest.md"
    assert await asyncio.to_thread(main, ["export", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("# Decision record: Just run on a shared")
    assert new.session is not None and new.session.id in capsys.readouterr().err
    await new.close()


async def test_join_code_is_checked_before_the_first_run_questions(relay: Any) -> None:
    """A wrong code is named before accord asks who you are; a right one adds nobody."""
    from accord.client import Connection
    from accord.protocol.messages import Create
    from accord.tui.cli_support import CliError, precheck_code

    fac = Connection(relay.url, Create(question="Which way?", name="Fay"))
    await fac.start(timeout=10)
    assert fac.secrets is not None and fac.session is not None
    with pytest.raises(CliError) as caught:
        await precheck_code(relay.url, "2222-3333-44444")
    assert "does not know that join code" in str(caught.value)
    assert await precheck_code(relay.url, fac.secrets.participant_code) == 0
    await fac.send(SetReady(True))  # a barrier: a join would have landed before this
    assert len(fac.session.members) == 1
    await fac.close()

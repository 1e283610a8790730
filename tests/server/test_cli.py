"""``accord serve`` and ``accord sessions``: one-line errors, clean shutdown, offline inspection."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from accord.protocol import commands as C
from accord.server.config import ServerConfig
from accord.server.relay import Relay
from accord.tui.cli import main
from server_support import RelayProcess, WireClient, free_port


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the user's own server.toml and data out of these tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


BAD_FLAGS = {
    "port not a number": (["--port", "http"], "--port"),
    "port out of range": (["--port", "70000"], "port"),
    "unknown log level": (["--log-level", "loud"], "--log-level"),
    "zero rate": (["--rate-limit", "0"], "rate_limit"),
    "negative timeout": (["--hello-timeout", "-2"], "hello_timeout"),
    "buffer not a number": (["--max-buffer", "lots"], "--max-buffer"),
    "cert without key": (["--tls-cert", "cert.pem"], "tls_key"),
    "missing tls files": (["--tls-cert", "nope.pem", "--tls-key", "nope.key"], "nope.pem"),
    "per-ip above total": (
        ["--max-connections", "5", "--max-connections-per-ip", "9"],
        "max_connections_per_ip",
    ),
    "bad origin": (["--origin", "example.com"], "origins"),
    "missing config": (["--config", "/nonexistent/server.toml"], "/nonexistent/server.toml"),
}


@pytest.mark.parametrize("case", sorted(BAD_FLAGS))
def test_bad_flag_is_one_line_and_exit_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each bad flag gets exit 2 and one stderr line that names the problem, no traceback."""
    flags, names = BAD_FLAGS[case]
    code, out, err = _run(["serve", "--data-dir", str(tmp_path / "d"), *flags], capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert names in lines[0] and "Traceback" not in err


def test_unknown_flag_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown flag is refused by the parser with exit 2 and an error naming it."""
    code, _, err = _run(["serve", "--turbo"], capsys)
    assert code == 2
    assert "--turbo" in err.strip().splitlines()[-1] and "Traceback" not in err


BAD_FILES = {
    "unknown key": ("colour = 'blue'\n", "colour"),
    "wrong type": ("port = '8080'\n", "port"),
    "bad toml": ("port = = 1\n", "not valid TOML"),
    "bad list": ("origins = [1, 2]\n", "origins"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_config_file_is_one_line_and_exit_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each bad config file gets exit 2 and one stderr line naming the key or the file."""
    text, names = BAD_FILES[case]
    path = tmp_path / "server.toml"
    path.write_text(text)
    code, _, err = _run(["serve", "--config", str(path)], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and names in lines[0], err


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    """A port already taken gets one line saying so and exit 1, not a traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "accord.tui.cli",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "d"),
            ],
            capture_output=True,
            text=True,
            timeout=20,
        )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert "in use" in lines[-1] and "Traceback" not in result.stderr


def test_serve_logs_and_stops_on_sigint(tmp_path: Path) -> None:
    """serve says where it listens, where data lives and how to host; SIGINT exits 0."""
    relay = RelayProcess(tmp_path / "data", free_port(), "--log-json")
    relay.start()
    code, output = relay.stop(signal.SIGINT)
    assert code == 0
    records = [json.loads(line) for line in output.splitlines() if line.strip()]
    text = " ".join(r["message"] for r in records)
    assert f"ws://127.0.0.1:{relay.port}" in text
    assert str(tmp_path / "data") in text
    assert f"accord host --server ws://127.0.0.1:{relay.port}" in text
    assert all({"time", "level", "message"} <= set(r) for r in records)


# ---- sessions ----------------------------------------------------------------------------


async def _decided_session(data: Path) -> str:
    async with Relay(ServerConfig(port=0, data_dir=data)) as relay:
        fac = await WireClient.create(relay.url, question="Partner with Acme?")
        await WireClient.join(relay.url, fac.secrets.participant_code, "Pat", "Sales")
        await fac.ok(C.SetPhase(phase="decide"))
        await fac.ok(
            C.RecordDecision(
                option_id="baseline",
                statement="Stay as we are",
                dissent="Pat was not asked",
                without_consensus=True,
            )
        )
        assert fac.welcome is not None
        return fac.welcome.session_id


def test_sessions_list_show_export_delete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ops can list, show, export, renew and delete sessions with no relay running."""
    data = tmp_path / "data"
    session_id = asyncio.run(_decided_session(data))
    where = ["--data-dir", str(data)]

    code, out, _ = _run(["sessions", "list", *where], capsys)
    assert code == 0 and session_id in out and "Partner with Acme?" in out
    code, out, _ = _run(["sessions", "list", "--json", *where], capsys)
    assert code == 0 and json.loads(out)[0]["id"] == session_id

    code, out, _ = _run(["sessions", "show", session_id, *where], capsys)
    assert code == 0 and "Pat (participant, Sales)" in out and "Stay as we are" in out

    code, out, _ = _run(["export", session_id, *where], capsys)
    assert code == 0 and "Stay as we are" in out and out.startswith("#")
    target = tmp_path / "record.json"
    code, _, _ = _run(["export", session_id, "--format", "json", "-o", str(target), *where], capsys)
    assert code == 0 and json.loads(target.read_text())["question"] == "Partner with Acme?"
    code, _, err = _run(["sessions", "export", session_id, *where], capsys)
    assert code == 2 and f"accord export {session_id} --data-dir {data}" in err

    before = json.loads(_run(["sessions", "list", "--json", *where], capsys)[1])[0]["epoch"]
    code, _, _ = _run(["sessions", "renew-epochs", *where], capsys)
    after = json.loads(_run(["sessions", "list", "--json", *where], capsys)[1])[0]["epoch"]
    assert code == 0 and after != before

    code, _, err = _run(["sessions", "delete", session_id, *where], capsys)
    assert code == 1 and "--yes" in err
    code, _, _ = _run(["sessions", "delete", session_id, "--yes", *where], capsys)
    assert code == 0
    code, out, _ = _run(["sessions", "list", "--json", *where], capsys)
    assert json.loads(out) == []
    code, _, err = _run(["sessions", "show", session_id, *where], capsys)
    assert code == 1 and session_id in err


def test_sessions_on_empty_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """On a dir with no data, list says so and exits 0; show exits 1 with one line."""
    code, _, err = _run(["sessions", "list", "--data-dir", str(tmp_path)], capsys)
    assert code == 0 and "no sessions" in err
    code, _, err = _run(["sessions", "show", "s1", "--data-dir", str(tmp_path)], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1

"""``--store`` on ``accord serve`` and ``accord sessions``: Redis works, bad values are one line."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from accord.protocol import commands as C
from accord.server.config import ServerConfig
from accord.server.redis_store import RedisStore
from accord.server.relay import Relay
from accord.tui.cli import main
from redis_support import RedisServer
from server_support import WireClient


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


def test_a_store_that_is_not_redis_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """``--store ftp://...`` exits 2 with one line naming the setting."""
    code, _, err = _run(["serve", "--store", "ftp://example.com"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "store: expected sqlite or a redis://" in err


def test_without_the_redis_package_serve_says_how_to_install_it(tmp_path: Path) -> None:
    """With redis-py missing, ``serve --store redis://`` prints one line with the pip command."""
    script = (
        "import sys; sys.modules['redis'] = None; sys.modules['redis.asyncio'] = None\n"
        "from accord.tui.cli import main\n"
        "sys.exit(main(['serve', '--port', '0', '--data-dir', sys.argv[1],"
        " '--store', 'redis://127.0.0.1:1/0']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'accord[redis]'" in lines[0]
    assert "Traceback" not in result.stderr


async def test_sessions_commands_work_against_redis(
    redis_server: RedisServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """sessions list, show and delete, and export, read and change what a Redis relay stored."""
    flush = RedisStore(redis_server.url)
    await flush.client.flushall()
    await flush.close()
    config = ServerConfig(
        host="127.0.0.1", port=0, data_dir=tmp_path / "relay", store=redis_server.url
    )
    async with Relay(config) as relay:
        fac = await WireClient.create(relay.url, question="Which queue?")
        await fac.ok(C.AddCard(lane="value", text="fast"))
        assert fac.session is not None
        sid = fac.session.id

        def run(*argv: str) -> tuple[int, str, str]:
            return _run(["sessions", *argv, "--store", redis_server.url], capsys)

        code, out, _ = await asyncio.to_thread(run, "list")
        assert code == 0 and sid in out and "Which queue?" in out
        code, out, _ = await asyncio.to_thread(run, "show", sid)
        assert code == 0 and f"seq       {fac.seq}" in out
        export = ["export", sid, "--format", "json", "--store", redis_server.url]
        export += ["--data-dir", str(tmp_path / "relay")]
        code, out, _ = await asyncio.to_thread(_run, export, capsys)
        assert code == 0 and '"Which queue?"' in out
        code, _, err = await asyncio.to_thread(run, "delete", sid, "--yes")
        assert code == 0 and f"deleted {sid}" in err
        assert await fac.closed() == 4004  # the relay holding it hears of the deletion
        code, out, _ = await asyncio.to_thread(run, "list")
        assert code == 0 and sid not in out

"""A bug in the board ends with one line for people; the traceback goes to a crash log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


async def test_unexpected_error_prints_one_line_and_saves_the_traceback(
    board: Callable[[str], Any],
    preview: Any,
    private_dirs: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An exception in a handler exits with a one-line message; the details land in crash.log."""
    app = preview(board("learn"), "Fay")

    def boom() -> None:
        raise RuntimeError("kaboom")

    with pytest.raises(RuntimeError):
        async with app.run_test(size=(80, 24)) as pilot:
            app.call_later(boom)
            await pilot.pause()
    log = (private_dirs / "data" / "crash.log").read_text()
    assert "Traceback" in log and "kaboom" in log
    err = capsys.readouterr().err
    assert "stopped on an unexpected error (RuntimeError: kaboom)" in err
    assert "accord resume" in err
    assert "Traceback" not in err and "locals" not in err


def test_cli_turns_an_unexpected_error_into_one_line(
    private_dirs: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error in a subcommand prints one line and saves the traceback."""
    from accord.tui import cli

    def broken(args: Any) -> int:
        raise ValueError("surprise")

    args = cli.build_parser().parse_args(["export"])
    args.handler = broken
    parser = cli.build_parser()
    monkeypatch.setattr(parser, "parse_args", lambda argv: args)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    code = cli.main([])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "ValueError: surprise" in err and "Traceback" not in err
    assert "surprise" in (private_dirs / "data" / "crash.log").read_text()

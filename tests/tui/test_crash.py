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
    assert "unexpected error (RuntimeError: kaboom)" in err
    assert "accord resume" in err
    assert "Traceback" not in err and "locals" not in err

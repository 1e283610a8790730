"""What a person sees if the board itself fails: one line, with the details saved to a file."""

from __future__ import annotations

import datetime
import traceback
from pathlib import Path

from accord.protocol.text import visible
from accord.tui.config import data_dir


def crash_log() -> Path:
    """Where tracebacks of unexpected errors go (``crash.log`` in the data dir)."""
    return data_dir() / "crash.log"


def save_crash(error: BaseException, hint: str = "") -> str:
    """Append ``error``'s traceback to the crash log; return a one-line message for people."""
    path = crash_log()
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {stamp} ---\n")
            log.write("".join(traceback.format_exception(error)))
        details = f"details are in {path}"
    except OSError:
        details = "the details could not be saved"
    summary = visible(f"{type(error).__name__}: {error}".strip().rstrip(":"))
    return f"accord stopped on an unexpected error ({summary[:200]}). {hint}{details}."


def save_crash_text(text: str, hint: str = "") -> str:
    """Append an already rendered traceback to the crash log; return one line for people.

    The summary is the traceback's last line (``RuntimeError: kaboom``).
    """
    path = crash_log()
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {stamp} ---\n{text.rstrip()}\n")
        details = f"details are in {path}"
    except OSError:
        details = "the details could not be saved"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    summary = lines[-1] if lines else "unknown error"
    return f"accord stopped on an unexpected error ({summary[:200]}). {hint}{details}."

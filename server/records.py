"""Decision records next to the data: both files written privately and atomically."""

from __future__ import annotations

import json
from pathlib import Path

from accord.protocol import record
from accord.protocol.model import Session

from .private import private_dir, write_private


def render_record(session: Session) -> tuple[str, str]:
    """The record of ``session`` as (Markdown, JSON) text, taken now."""
    data = json.dumps(record.record_data(session), indent=2, ensure_ascii=False)
    return record.record_markdown(session), data


def write_record(folder: Path, session_id: str, markdown: str, data: str) -> None:
    """Write both record files (0600 in a 0700 folder), each replaced atomically.

    Raises:
        OSError: if they cannot be written.
    """
    private_dir(folder)
    for suffix, text in ((".json", data + "\n"), (".md", markdown)):
        write_private(folder / f"{session_id}{suffix}", text.encode("utf-8"))


def keep_record(folder: Path, session: Session) -> None:
    """Write a session's record unless both files are already there.

    Raises:
        OSError: if it cannot be written.
    """
    if all((folder / f"{session.id}{suffix}").is_file() for suffix in (".md", ".json")):
        return
    write_record(folder, session.id, *render_record(session))

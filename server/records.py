"""The one writer of decision records: Markdown and JSON, written atomically, one naming scheme.

The relay (when a session closes), the board (``w`` and the facilitator's copy)
and ``accord export`` all call these functions. The contents come from
``accord.protocol.record``; this module only names, renders to text and writes.
A file is written to a temporary name in the same folder, flushed to disk, then
renamed over the final name, so a reader never sees half a record.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Literal

from accord.protocol.model import Session
from accord.protocol.record import record_data, record_markdown

RecordFormat = Literal["md", "json"]
FORMATS: tuple[RecordFormat, ...] = ("md", "json")


def record_paths(folder: Path, session_id: str) -> tuple[Path, Path]:
    """Where a session's Markdown and JSON records go in ``folder``: ``decision-<id>.md|json``."""
    stem = f"decision-{session_id}"
    return folder / f"{stem}.md", folder / f"{stem}.json"


def render_record(session: Session, fmt: RecordFormat) -> str:
    """The record as text in ``fmt``, ending with exactly one newline."""
    if fmt == "json":
        text = json.dumps(record_data(session), indent=2, ensure_ascii=False)
    else:
        text = record_markdown(session)
    return text.rstrip("\n") + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one step: temp file, fsync, rename.

    Raises:
        OSError: when the folder or file cannot be written (the old file, if any, stays).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_record_texts(folder: Path, session_id: str, markdown: str, data: str) -> None:
    """Write already rendered record texts (the relay does this off its event loop).

    Raises:
        OSError: when a file cannot be written.
    """
    md, js = record_paths(folder, session_id)
    write_atomically(js, data)
    write_atomically(md, markdown)


def write_record(session: Session, folder: Path) -> Path:
    """Write both record files of ``session`` into ``folder``; returns the Markdown path.

    Raises:
        OSError: when a file cannot be written.
    """
    write_record_texts(
        folder, session.id, render_record(session, "md"), render_record(session, "json")
    )
    return record_paths(folder, session.id)[0]


def keep_record(folder: Path, session: Session) -> None:
    """Write a session's record unless both files are already there (before it expires).

    Raises:
        OSError: if it cannot be written.
    """
    if all(path.is_file() for path in record_paths(folder, session.id)):
        return
    write_record(session, folder)

"""The one record writer: one naming scheme, one trailing newline, atomic replacement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from accord.protocol.model import new_session
from accord.server.records import record_paths, render_record, write_atomically, write_record


def test_record_files_share_one_name_and_end_with_one_newline(tmp_path: Path) -> None:
    """Both files are named ``decision-<id>`` in a folder made if missing, ending in one newline."""
    session = new_session("s9", "Which way?", 1_800_000_000.0)
    folder = tmp_path / "new" / "records"
    md = write_record(session, folder)
    assert (md, md.with_suffix(".json")) == record_paths(folder, "s9")
    assert md.name == "decision-s9.md"
    for path in record_paths(folder, "s9"):
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n")
    assert json.loads(md.with_suffix(".json").read_text())["question"] == "Which way?"
    assert "Which way?" in md.read_text() == render_record(session, "md")
    assert sorted(p.name for p in folder.iterdir()) == ["decision-s9.json", "decision-s9.md"]


def test_a_write_that_cannot_land_changes_nothing_and_leaves_no_temp(tmp_path: Path) -> None:
    """When the final rename fails (a folder sits at the name), nothing changes, no temp remains."""
    blocked = tmp_path / "decision-s1.md"
    blocked.mkdir()
    (blocked / "keep.txt").write_text("kept\n")
    with pytest.raises(OSError):
        write_atomically(blocked, "new\n")
    assert (blocked / "keep.txt").read_text() == "kept\n"
    assert [p.name for p in tmp_path.iterdir()] == ["decision-s1.md"]

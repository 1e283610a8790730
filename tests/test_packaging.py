"""Packaging: every package folder is listed in pyproject, and the wheel holds only accord/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Top-level source folders and the dotted package each installs as.
FOLDERS = {
    "protocol": "accord.protocol",
    "server": "accord.server",
    "tui": "accord.tui",
    "client": "accord.client",
}


def _pyproject() -> dict:  # type: ignore[type-arg]
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def _package_folders() -> dict[str, Path]:
    """Dotted name -> folder, for every folder under the source roots holding ``__init__.py``."""
    found = {}
    for folder, dotted in FOLDERS.items():
        for init in sorted((ROOT / folder).rglob("__init__.py")):
            parts = init.parent.relative_to(ROOT / folder).parts
            if "__pycache__" in parts:
                continue
            found[".".join((dotted, *parts))] = init.parent
    return found


def test_package_dir_maps_the_four_folders() -> None:
    """setuptools installs protocol/, server/, tui/, client/ as accord.protocol, .server, ..."""
    package_dir = _pyproject()["tool"]["setuptools"]["package-dir"]
    assert package_dir == {dotted: folder for folder, dotted in FOLDERS.items()}


def test_every_package_folder_is_listed() -> None:
    """Every folder holding ``__init__.py`` is listed in [tool.setuptools] packages."""
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    folders = _package_folders()
    missing = sorted(set(folders) - listed)
    assert not missing, (
        "add these to [tool.setuptools] packages in pyproject.toml, or setuptools silently "
        f"leaves them out of the wheel: {', '.join(missing)}"
    )
    stale = sorted(listed - set(folders))
    assert not stale, f"pyproject lists packages with no folder: {', '.join(stale)}"


def test_every_package_is_typed() -> None:
    """Each package folder ships a ``py.typed`` marker."""
    untyped = [
        name for name, path in _package_folders().items() if not (path / "py.typed").exists()
    ]
    assert untyped == []


def _build_wheel(source: Path, out: Path) -> Path:
    """Build a wheel of ``source`` into ``out`` with pypa/build, offline if possible."""
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    if done.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.mark.slow
def test_wheel_holds_only_accord(tmp_path: Path) -> None:
    """The built wheel has only accord/... and its .dist-info, with py.typed and styles."""
    pytest.importorskip("build")
    source = tmp_path / "src"
    source.mkdir()
    # Build from a copy so the checkout gets no build/ or egg-info litter.
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    wheel = _build_wheel(source, tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
    strays = [n for n in names if not n.startswith(("accord/", f"{dist_info}/"))]
    assert strays == []
    for dotted in _package_folders():
        prefix = dotted.replace(".", "/")
        assert f"{prefix}/__init__.py" in names, dotted
        assert f"{prefix}/py.typed" in names, dotted
    assert "accord/protocol/py.typed" in names
    for tcss in (ROOT / "tui").rglob("*.tcss"):
        assert f"accord/tui/{tcss.relative_to(ROOT / 'tui').as_posix()}" in names
    assert not any(n.startswith(("protocol/", "server/", "tui/", "tests/")) for n in names)

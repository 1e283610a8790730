"""Where the client keeps things: the TOML profile and the 0600 file of session keys.

``ACCORD_CONFIG_DIR`` and ``ACCORD_DATA_DIR`` override the platform folders
(tests and portable installs use them).
"""

from __future__ import annotations

import json
import os
import time
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs
from accord.protocol import limits as L

CONFIG_ENV = "ACCORD_CONFIG_DIR"
DATA_ENV = "ACCORD_DATA_DIR"


class ConfigError(Exception):
    """The profile file cannot be read or holds a bad value; the message is one line."""


def config_dir() -> Path:
    """The folder of ``config.toml``: ``$ACCORD_CONFIG_DIR`` or the platform config dir."""
    override = os.environ.get(CONFIG_ENV)
    return Path(override) if override else Path(platformdirs.user_config_dir("accord"))


def data_dir() -> Path:
    """The folder of session keys, relay storage and records (``$ACCORD_DATA_DIR``)."""
    override = os.environ.get(DATA_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir("accord"))


def profile_path() -> Path:
    """The profile file."""
    return config_dir() / "config.toml"


@dataclass(slots=True)
class Profile:
    """Who you are in sessions, remembered after the first run."""

    name: str = ""
    department: str = ""
    server: str = ""
    #: The board's theme as last picked in the palette ("" is Textual's default).
    theme: str = ""

    @property
    def complete(self) -> bool:
        """True once a display name is known."""
        return bool(self.name.strip())


def load_profile(path: Path | None = None) -> Profile:
    """Read the profile; a missing file is an empty profile.

    Raises:
        ConfigError: the file is not valid TOML or a value has the wrong type or size.
    """
    path = path or profile_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Profile()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    known = {f.name for f in fields(Profile)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(known)})")
    limits = {"name": L.NAME_CHARS, "department": L.DEPARTMENT_CHARS, "server": 400, "theme": 64}
    for key, value in data.items():
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {key} must be a string, not {type(value).__name__}")
        if len(value) > limits[key]:
            raise ConfigError(f"{path}: {key} is longer than {limits[key]} characters")
    return Profile(**data)


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def save_profile(profile: Profile, path: Path | None = None) -> Path:
    """Write the profile as TOML and return its path."""
    path = path or profile_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# accord: who you are in sessions. Edit freely.\n"]
    lines += [f"{f.name} = {_toml_string(getattr(profile, f.name))}\n" for f in fields(Profile)]
    path.write_text("".join(lines), encoding="utf-8")
    return path


# ---- session keys ---------------------------------------------------------------


@dataclass(slots=True)
class Membership:
    """What it takes to come back to a session: the relay, your token, maybe join codes."""

    session_id: str
    server: str
    token: str
    member_id: str
    role: str
    name: str
    question: str
    last_used: float = 0.0
    embedded: bool = False
    codes: dict[str, str] = field(default_factory=dict)
    #: The address an embedded relay was bound to ("" is 127.0.0.1), so resume binds it again.
    bind: str = ""


class KeyStore:
    """The file of memberships, readable only by you (mode 0600)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / "sessions.json"

    def load(self) -> list[Membership]:
        """Every remembered membership, most recently used first."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{self.path}: cannot read session keys ({exc})") from None
        items: list[Membership] = []
        names = {f.name for f in fields(Membership)}
        for entry in raw if isinstance(raw, list) else []:
            if isinstance(entry, dict):
                try:
                    items.append(Membership(**{k: v for k, v in entry.items() if k in names}))
                except TypeError:
                    continue
        items.sort(key=lambda m: -m.last_used)
        return items

    def remember(self, membership: Membership) -> None:
        """Add or refresh a membership (one per session and member)."""
        membership.last_used = time.time()
        key = (membership.session_id, membership.member_id)
        items = [m for m in self.load() if (m.session_id, m.member_id) != key]
        items.insert(0, membership)
        self._write([asdict(m) for m in items])

    def update_codes(self, session_id: str, member_id: str, codes: dict[str, str]) -> bool:
        """Replace the join codes kept with one membership (after a rotation); False if none.

        Raises:
            ConfigError: the file cannot be read.
            OSError: it cannot be written.
        """
        items = self.load()
        found = [m for m in items if (m.session_id, m.member_id) == (session_id, member_id)]
        if not found:
            return False
        found[0].codes = dict(codes)
        self._write([asdict(m) for m in items])
        return True

    def find(self, session: str = "") -> Membership | None:
        """The latest membership, or the one whose session id starts with ``session``."""
        for m in self.load():
            if not session or m.session_id.startswith(session):
                return m
        return None

    def _write(self, data: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

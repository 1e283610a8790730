"""The relay's settings: one dataclass with defaults, loaded from TOML and flags."""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from accord.protocol import limits as L

if TYPE_CHECKING:  # the rules load lazily so `accord --help` stays quick
    from accord.protocol.rules import Caps

LOG_LEVELS = ("debug", "info", "warning", "error")
DURABILITY = ("disk", "process")


class ConfigError(Exception):
    """A setting is unknown, of the wrong type or out of range; the message is one line."""


def default_data_dir() -> Path:
    """Where sessions are stored unless configured: the platform's user data dir."""
    return Path(platformdirs.user_data_dir("accord"))


def default_config_path() -> Path:
    """Where ``accord serve`` looks for ``server.toml`` unless given ``--config``."""
    return Path(platformdirs.user_config_dir("accord")) / "server.toml"


@dataclass(slots=True)
class ServerConfig:
    """Every relay setting, with the default an operator gets when they set nothing."""

    # Where to listen and where to keep data.
    host: str = "127.0.0.1"
    port: int = 8765
    data_dir: Path = field(default_factory=default_data_dir)
    # Logs.
    log_level: str = "info"
    log_json: bool = False
    # TLS in process (or terminate it in a proxy and leave these unset).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Allowed browser origins; clients that send no Origin (terminals) are always allowed.
    origins: list[str] = field(default_factory=list)
    # Behind a proxy: take the client address from X-Forwarded-For / X-Real-IP.
    trust_proxy: bool = False
    # Per-message deflate: off by default, it doubles per-recipient cost.
    compression: bool = False
    # Only clients presenting this token may create sessions ("" lets anyone create).
    admin_token: str = ""
    # Abuse limits.
    rate_limit: float = 20.0  # commands per second per connection, sustained
    rate_burst: int = 40  # commands a connection may send at once
    flood_limit: int = 40  # rate-limited frames in a row before closing with 1008
    max_connections: int = 5000
    max_connections_per_ip: int = 200
    max_sessions: int = 10000
    max_members: int = 200  # the facilitator and participants
    max_observers: int = 200  # observers have their own seats
    max_partners: int = 20  # so do partners
    max_cards: int = L.MAX_CARDS
    max_needs: int = L.MAX_NEEDS
    max_options: int = L.MAX_OPTIONS
    max_notes: int = L.MAX_NOTES
    max_votes: int = L.MAX_VOTES
    hello_timeout: float = 5.0
    max_buffer: int = 1024 * 1024  # bytes queued to one client before it is dropped
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    # Durability and resume.
    replay_window: int = 1000  # events a resuming client may be behind and still replay
    snapshot_every: int = 200  # events between stored snapshots
    idle_unload: float = 300.0  # seconds an empty session stays in memory
    # Budgets (issue 9): what one address or one session may cost the relay.
    creates_per_minute: float = 1.0  # sessions one address may create, sustained
    create_burst: int = 20  # sessions one address may create at once
    failed_joins_per_minute: float = 6.0  # unknown codes or tokens one address may try
    failed_join_burst: int = 30
    snapshots_per_minute: float = 60.0  # full-board hellos (no last_seq) per address
    snapshot_burst: int = 60
    max_session_events: int = 100_000  # events in one session's life
    max_session_bytes: int = 4 * 1024 * 1024  # size of one session's board, encoded
    expire_after_days: float = 90.0  # a session with no event for this long is deleted
    compact_events: bool = True  # drop stored events well behind the latest snapshot
    min_free_disk_mb: int = 256  # below this much free space, writes are refused
    # At rest: the key that seals ballots in the database (default: DATA_DIR/ballot.key).
    ballot_key_file: Path | None = None
    # SQLite: "disk" survives power loss (synchronous=FULL); "process" survives a relay
    # crash or kill -9 but may roll back the last commits on an OS crash (docs/ops.md).
    durability: str = "disk"
    # Where sessions live: "" (or "sqlite") for the SQLite file in data_dir, or a
    # redis://host:port/db URL shared by any number of relays (needs accord[redis]).
    store: str = ""

    @property
    def caps(self) -> Caps:
        """The per-session list caps handed to the protocol rules."""
        from accord.protocol.rules import Caps

        return Caps(
            members=self.max_members,
            cards=self.max_cards,
            needs=self.max_needs,
            options=self.max_options,
            notes=self.max_notes,
            votes=self.max_votes,
            observers=self.max_observers,
            partners=self.max_partners,
        )

    @property
    def db_path(self) -> Path:
        """The SQLite file inside the data dir."""
        return self.data_dir / "accord.sqlite3"

    @property
    def ballot_key_path(self) -> Path:
        """The file holding the key that seals ballots at rest."""
        return self.ballot_key_file or self.data_dir / "ballot.key"

    @property
    def records_dir(self) -> Path:
        """Where decision records are written when a session closes."""
        return self.data_dir / "records"


_FIELDS = {f.name: f for f in dataclasses.fields(ServerConfig)}
_HINTS = typing.get_type_hints(ServerConfig)

#: (lowest, highest) for numeric settings; None means unbounded.
_BOUNDS: dict[str, tuple[float, float | None]] = {
    "port": (0, 65535),
    "rate_limit": (0.1, None),
    "rate_burst": (1, None),
    "flood_limit": (1, None),
    "max_connections": (1, None),
    "max_connections_per_ip": (1, None),
    "max_sessions": (1, None),
    "max_members": (2, L.MAX_MEMBERS),
    "max_observers": (0, L.MAX_MEMBERS),
    "max_partners": (0, L.MAX_MEMBERS),
    "max_cards": (0, L.MAX_CARDS),
    "max_needs": (0, L.MAX_NEEDS),
    "max_options": (1, L.MAX_OPTIONS),
    "max_notes": (0, L.MAX_NOTES),
    "max_votes": (0, L.MAX_VOTES),
    "hello_timeout": (0.1, 300),
    "max_buffer": (L.MAX_SERVER_FRAME // 64, None),
    "ping_interval": (0.1, None),
    "ping_timeout": (0.1, None),
    "replay_window": (0, 1_000_000),
    "snapshot_every": (1, None),
    "idle_unload": (0, None),
    "creates_per_minute": (0.001, None),
    "create_burst": (1, None),
    "failed_joins_per_minute": (0.001, None),
    "failed_join_burst": (1, None),
    "snapshots_per_minute": (0.001, None),
    "snapshot_burst": (1, None),
    "max_session_events": (100, None),
    "max_session_bytes": (64 * 1024, L.MAX_SERVER_FRAME // 2),
    "expire_after_days": (0, None),
    "min_free_disk_mb": (0, None),
}


def _check_value(name: str, value: Any, base: Path | None) -> Any:
    """Convert and check one setting, or raise ConfigError naming it."""
    hint = _HINTS[name]
    args = typing.get_args(hint)
    optional = type(None) in args
    if optional:
        if value is None:
            return None
        hint = next(a for a in args if a is not type(None))
    if hint is bool:
        if type(value) is not bool:
            raise ConfigError(f"{name}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if type(value) is not int:
            raise ConfigError(f"{name}: expected a whole number, got {value!r}")
        return _in_bounds(name, value)
    if hint is float:
        if type(value) not in (int, float):
            raise ConfigError(f"{name}: expected a number, got {value!r}")
        return _in_bounds(name, float(value))
    if hint is str:
        if type(value) is not str:
            raise ConfigError(f"{name}: expected a string, got {value!r}")
        return value
    if hint is Path:
        if type(value) is str:
            value = Path(value)
        if not isinstance(value, Path) or not str(value):
            raise ConfigError(f"{name}: expected a path, got {value!r}")
        value = value.expanduser()
        if base is not None and not value.is_absolute():
            value = base / value
        return value
    if typing.get_origin(hint) is list or isinstance(hint, types.GenericAlias):
        if type(value) is not list or not all(type(v) is str and v for v in value):
            raise ConfigError(f"{name}: expected a list of strings, got {value!r}")
        return list(value)
    raise AssertionError(f"no check for setting {name}")  # every field type is handled above


def _in_bounds(name: str, value: float) -> Any:
    lo, hi = _BOUNDS.get(name, (0, None))
    if value < lo or (hi is not None and value > hi):
        span = f"from {lo:g} to {hi:g}" if hi is not None else f"of at least {lo:g}"
        raise ConfigError(f"{name}: expected a value {span}, got {value:g}")
    return value


def _check_whole(config: ServerConfig) -> None:
    """Checks that span several settings or need more than a type."""
    if not config.host:
        raise ConfigError("host: must not be empty")
    if config.log_level.lower() not in LOG_LEVELS:
        raise ConfigError(f"log_level: expected one of {', '.join(LOG_LEVELS)}")
    config.log_level = config.log_level.lower()
    if (config.tls_cert is None) != (config.tls_key is None):
        raise ConfigError("tls_cert, tls_key: set both for TLS, or neither")
    for origin in config.origins:
        if not origin.startswith(("http://", "https://")):
            raise ConfigError(f"origins: {origin!r} should look like https://host[:port]")
    if config.max_connections_per_ip > config.max_connections:
        raise ConfigError("max_connections_per_ip: must not be above max_connections")
    if len(config.admin_token) > L.SECRET_CHARS:
        raise ConfigError(f"admin_token: at most {L.SECRET_CHARS} characters")
    if config.durability not in DURABILITY:
        raise ConfigError(f"durability: expected one of {', '.join(DURABILITY)}")
    if config.store == "sqlite":
        config.store = ""
    if config.store and not config.store.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("store: expected sqlite or a redis://host:port/db URL")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def load_config(path: Path | None = None, overrides: dict[str, Any] | None = None) -> ServerConfig:
    """Build the config from defaults, then the TOML file, then ``overrides`` (flags).

    ``path`` None means the default file, which may be missing. Keys in the
    file are the field names of ``ServerConfig`` (top level, or under a
    ``[server]`` table); ``overrides`` with value None are ignored.

    Raises:
        ConfigError: for a missing given file, bad TOML, unknown keys, bad types or values.
    """
    values: dict[str, Any] = {}
    if path is None:
        default = default_config_path()
        if default.is_file():
            path = default
    if path is not None:
        data = _read_toml(path)
        if set(data) == {"server"} and isinstance(data["server"], dict):
            data = data["server"]
        base = path.parent.resolve()
        for key, value in data.items():
            if key not in _FIELDS:
                raise ConfigError(f"{key}: unknown setting in {path}")
            values[key] = _check_value(key, value, base)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in _FIELDS:
            raise ConfigError(f"{key}: unknown setting")
        values[key] = _check_value(key, value, None)
    config = ServerConfig(**values)
    _check_whole(config)
    return config

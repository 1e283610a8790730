"""Loading the relay's config: defaults, TOML, flags, and one-line errors naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from accord.server.config import ConfigError, ServerConfig, default_config_path, load_config


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the default config and data dirs at an empty temp dir."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "server.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    """With no file and no flags the defaults apply: loopback, 8765, compression off."""
    config = load_config(None, {})
    assert (config.host, config.port, config.compression) == ("127.0.0.1", 8765, False)
    assert config.data_dir == tmp_path / "xdg-data" / "accord"
    assert config.hello_timeout <= 10 and config.max_buffer > 0


def test_default_file_is_read_when_present(tmp_path: Path) -> None:
    """The platform's user config dir holds server.toml, used when no --config is given."""
    path = default_config_path()
    path.parent.mkdir(parents=True)
    path.write_text('port = 9000\nlog_level = "DEBUG"\n')
    config = load_config(None, {})
    assert config.port == 9000 and config.log_level == "debug"


def test_file_then_flags(tmp_path: Path) -> None:
    """Flags override the file, which overrides defaults; relative paths follow the file."""
    path = _toml(
        tmp_path,
        'host = "0.0.0.0"\nport = 9001\ndata_dir = "state"\norigins = ["https://a.example"]\n'
        "rate_limit = 5\nmax_members = 50\ncompression = true\n",
    )
    config = load_config(path, {"port": 9002, "host": None})
    assert config.host == "0.0.0.0" and config.port == 9002
    assert config.data_dir == tmp_path / "state"
    assert config.origins == ["https://a.example"] and config.compression
    assert config.rate_limit == 5.0 and config.caps.members == 50


def test_server_table_is_accepted(tmp_path: Path) -> None:
    """Settings may also sit under a [server] table."""
    config = load_config(_toml(tmp_path, "[server]\nport = 9100\n"), {})
    assert config.port == 9100


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("colour = 1\n", "colour"),
        ('port = "80"\n', "port"),
        ("port = 70000\n", "port"),
        ("rate_limit = 0\n", "rate_limit"),
        ("max_members = 1\n", "max_members"),
        ("compression = 1\n", "compression"),
        ('log_level = "loud"\n', "log_level"),
        ('origins = "https://a.example"\n', "origins"),
        ('origins = ["a.example"]\n', "origins"),
        ('tls_cert = "cert.pem"\n', "tls_cert"),
        ("max_connections = 5\nmax_connections_per_ip = 6\n", "max_connections_per_ip"),
        ("hello_timeout = -1\n", "hello_timeout"),
        ('host = ""\n', "host"),
        ("port = \n", "server.toml"),
    ],
)
def test_bad_settings_name_the_problem(tmp_path: Path, text: str, names: str) -> None:
    """A bad setting raises ConfigError with one line that names it."""
    with pytest.raises(ConfigError) as caught:
        load_config(_toml(tmp_path, text), {})
    message = str(caught.value)
    assert names in message and "\n" not in message


def test_missing_given_file_is_an_error(tmp_path: Path) -> None:
    """A --config file that does not exist is an error, unlike a missing default file."""
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", {})


def test_bad_override_is_an_error() -> None:
    """Overrides are checked like the file."""
    with pytest.raises(ConfigError, match="port"):
        load_config(None, {"port": -1})
    with pytest.raises(ConfigError, match="nonsense"):
        load_config(None, {"nonsense": 1})


def test_every_setting_has_a_default() -> None:
    """ServerConfig() builds with no arguments (the relay runs with no config at all)."""
    assert isinstance(ServerConfig(), ServerConfig)


def test_every_setting_is_in_the_ops_guide_and_in_serve_help() -> None:
    """Each setting has a row in docs/ops.md and a flag in `accord serve --help`."""
    import dataclasses
    import subprocess
    import sys

    guide = (Path(__file__).resolve().parents[2] / "docs" / "ops.md").read_text()
    help_text = subprocess.run(
        [sys.executable, "-m", "accord.tui.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "200", "PATH": ""},
    ).stdout
    missing = []
    for f in dataclasses.fields(ServerConfig):
        if f"`{f.name}`" not in guide:
            missing.append(f"{f.name} (ops guide)")
        if f"--{f.name.replace('_', '-')}" not in help_text and f.name != "origins":
            missing.append(f"{f.name} (--help)")
    assert not missing, missing


def test_budget_settings_load_from_toml(tmp_path: Path) -> None:
    """The budget knobs are read from the TOML file and checked for range."""
    config = load_config(
        _toml(tmp_path, "create_burst = 5\nexpire_after_days = 30.5\nmin_free_disk_mb = 0\n"), {}
    )
    assert (config.create_burst, config.expire_after_days, config.min_free_disk_mb) == (5, 30.5, 0)
    with pytest.raises(ConfigError, match="max_session_bytes"):
        load_config(_toml(tmp_path, "max_session_bytes = 1\n"), {})
    assert load_config(None, {"compact_events": False}).compact_events is False

"""The profile (TOML) and the session keys file (mode 0600)."""

from __future__ import annotations

import stat

import pytest
from accord.tui.config import (
    ConfigError,
    KeyStore,
    Membership,
    Profile,
    load_profile,
    profile_path,
    save_profile,
)


def test_profile_round_trips_through_toml() -> None:
    """A saved profile loads back the same, quotes and all."""
    saved = Profile(name='Ada "the" Lovelace', department="R&D")
    path = save_profile(saved)
    assert path == profile_path()
    assert load_profile() == saved


def test_missing_profile_is_empty() -> None:
    """No file yet means an incomplete profile, not an error."""
    assert not load_profile().complete


def test_unknown_setting_is_refused() -> None:
    """A typo in a setting name is reported with the known names."""
    profile_path().parent.mkdir(parents=True, exist_ok=True)
    profile_path().write_text('nmae = "Ada"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown setting 'nmae'"):
        load_profile()


def test_keys_file_is_private_and_finds_sessions() -> None:
    """Tokens are written with mode 0600 and found by session id prefix, newest first."""
    store = KeyStore()
    store.remember(Membership("s1aaa", "ws://h:1", "tok1", "m1", "facilitator", "Ada", "Q1?"))
    store.remember(Membership("s2bbb", "ws://h:1", "tok2", "m2", "participant", "Ada", "Q2?"))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    latest = store.find()
    assert latest is not None and latest.session_id == "s2bbb"
    older = store.find("s1")
    assert older is not None and older.token == "tok1"
    assert store.find("zz") is None


def test_new_codes_replace_only_that_memberships_codes() -> None:
    """``update_codes`` swaps one membership's codes, keeps its token and the file private."""
    store = KeyStore()
    codes = {"participant": "old-p", "partner": "old-x", "observer": "old-o"}
    store.remember(
        Membership("s1aaa", "ws://h:1", "key1", "m1", "facilitator", "Ada", "Q?", codes=codes)
    )
    store.remember(Membership("s1aaa", "ws://h:1", "tok2", "m2", "participant", "Bo", "Q?"))
    new = {"participant": "new-p", "partner": "new-x", "observer": "new-o"}
    assert store.update_codes("s1aaa", "m1", new)
    assert not store.update_codes("s1aaa", "m9", new)
    saved = {m.member_id: m for m in store.load()}
    assert saved["m1"].codes == new and saved["m1"].token == "key1"
    assert saved["m2"].codes == {} and saved["m2"].token == "tok2"
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600

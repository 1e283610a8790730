"""Shared fixtures: a real relay on 127.0.0.1, port 0, with its SQLite data in a temp dir."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from accord.server.config import ServerConfig
from accord.server.relay import Relay
from hypothesis import settings

RelayFactory = Callable[..., Awaitable[Relay]]

# CI replays the same hypothesis examples on every run (a failure there is reproducible);
# a local run explores new ones. Failing examples print a blob to replay them.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


def relay_config(data_dir: Path, **overrides: Any) -> ServerConfig:
    """A test relay's config: loopback, any free port, data in ``data_dir``."""
    base = ServerConfig(host="127.0.0.1", port=0, data_dir=data_dir)
    return dataclasses.replace(base, **overrides)


@pytest.fixture
async def relay_factory(tmp_path: Path) -> AsyncIterator[RelayFactory]:
    """Start relays with config overrides; each gets its own temp data dir unless given one.

    Pass the same ``data_dir`` to a second relay to restart "the same" relay.
    """
    started: list[Relay] = []

    async def make(**overrides: Any) -> Relay:
        overrides.setdefault("data_dir", tmp_path / f"relay-data-{len(started)}")
        relay = Relay(relay_config(**overrides))
        await relay.start()
        started.append(relay)
        return relay

    yield make
    for relay in reversed(started):
        await relay.close()


@pytest.fixture
async def relay(relay_factory: RelayFactory) -> Relay:
    """A started relay on 127.0.0.1 with a temp-dir SQLite store; ``relay.url`` to connect."""
    return await relay_factory()

"""Fixtures for the store tests: a real redis-server per test module, and a store of each kind.

``server_support`` (tests/server) and ``redis_support`` (here) are on the path
through ``pythonpath`` in pyproject.toml (pytest runs with ``--import-mode=importlib``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from accord.server.redis_store import RedisStore
from accord.server.storage import SqliteStore
from accord.server.store import Store
from redis_support import RedisServer


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server on a free loopback port for this module's tests."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An open store of each kind (the Redis one on an emptied server)."""
    opened: Store
    if request.param == "sqlite":
        opened = SqliteStore(tmp_path / "accord.sqlite3", durability="disk")
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        redis_store = RedisStore(server.url)
        await redis_store.client.flushall()
        opened = redis_store
    await opened.open()
    yield opened
    await opened.close()

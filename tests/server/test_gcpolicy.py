"""The relay's GC policy: survivors frozen, full collections when quiet, all handed back at stop."""

from __future__ import annotations

import asyncio
import gc

import pytest
from accord.server import gcpolicy
from accord.server.gcpolicy import GcPolicy


async def test_freezes_then_collects_when_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcpolicy, "TICK", 0.02)
    monkeypatch.setattr(gcpolicy, "IDLE_AFTER", 0.05)
    work = [0]
    policy = GcPolicy(lambda: work[0])
    policy.start()
    try:
        assert gc.get_freeze_count() > 0
        for _ in range(5):  # busy: no full collection of ours
            work[0] += 1
            await asyncio.sleep(0.02)
        busy = policy.full_collections
        for _ in range(100):
            await asyncio.sleep(0.02)
            if policy.full_collections > busy:
                break
        assert policy.full_collections > busy
        assert gc.get_freeze_count() > 0
    finally:
        await policy.stop()
    assert gc.get_freeze_count() == 0


async def test_cycles_among_frozen_objects_are_reclaimed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcpolicy, "TICK", 0.02)
    monkeypatch.setattr(gcpolicy, "IDLE_AFTER", 0.0)

    class Node:
        pass

    policy = GcPolicy(lambda: 0)
    node = Node()
    node.self = node  # type: ignore[attr-defined]
    policy.start()  # the cycle is frozen now
    try:
        seen = policy.full_collections
        del node  # garbage now, but frozen: only our full collection can free it
        for _ in range(100):
            await asyncio.sleep(0.02)
            if policy.full_collections > seen:
                break
        assert policy.full_collections > seen
        gc.unfreeze()  # what is still frozen becomes visible again
        assert not any(type(o) is Node for o in gc.get_objects())
    finally:
        await policy.stop()

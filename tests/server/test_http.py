"""Plain HTTP on the relay's port: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import sqlite3

from accord.protocol import commands as C
from accord.protocol.messages import Hello
from accord.server.relay import Relay
from prometheus_client.parser import text_string_to_metric_families
from server_support import RelayFactory, WireClient, fetch


def _http(relay: Relay, path: str) -> str:
    return relay.url.replace("ws://", "http://") + path


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_healthz(relay: Relay) -> None:
    """/healthz answers 200 while the relay runs."""
    assert await fetch(_http(relay, "/healthz")) == (200, "ok\n")


async def test_readyz_follows_storage(relay: Relay) -> None:
    """/readyz is 200 while storage takes writes and 503 while another process holds its lock."""
    assert (await fetch(_http(relay, "/readyz")))[0] == 200
    holder = sqlite3.connect(relay.config.db_path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        status, body = await fetch(_http(relay, "/readyz"))
        assert status == 503 and "storage" in body
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (await fetch(_http(relay, "/readyz")))[0] == 200


async def test_metrics_parse_and_count(relay: Relay) -> None:
    """/metrics parses as Prometheus text and counts connections, commands, fan-out and resumes."""
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    await fac.ok(C.AddCard(lane="value", text="one"))
    await fac.ok(C.AddCard(lane="value", text="two"))
    await pat.cmd(C.SetPhase(phase="needs"))  # rejected: forbidden
    await pat.resume()  # replay
    stale = await WireClient.open(relay.url)
    await stale.send(Hello(token=pat.token, last_seq=1, epoch="e-old"))
    await stale.expect_welcome()  # snapshot

    status, text = await fetch(_http(relay, "/metrics"))
    assert status == 200
    s = _samples(text)
    assert s[("accord_connections", ())] == 4
    assert s[("accord_sessions_loaded", ())] == 1
    assert s[("accord_commands_total", (("code", ""), ("result", "accepted")))] == 2
    assert s[("accord_commands_total", (("code", "forbidden"), ("result", "rejected")))] == 1
    assert s[("accord_events_fanned_out_total", ())] >= 3  # a join and two cards
    assert s[("accord_fanout_seconds_count", ())] >= 3
    assert s[("accord_storage_commit_seconds_count", ())] >= 3
    assert s[("accord_resumes_total", (("mode", "replay"),))] == 1
    assert s[("accord_resumes_total", (("mode", "snapshot"),))] == 1
    assert s[("accord_sessions_created_total", ())] == 1


async def test_metrics_are_per_relay(relay_factory: RelayFactory) -> None:
    """Two relays in one process keep separate metrics."""
    one = await relay_factory()
    two = await relay_factory()
    await WireClient.create(one.url)
    a = _samples((await fetch(_http(one, "/metrics")))[1])
    b = _samples((await fetch(_http(two, "/metrics")))[1])
    assert a[("accord_sessions_created_total", ())] == 1
    assert b[("accord_sessions_created_total", ())] == 0

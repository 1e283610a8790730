"""Budgets, not hope: per-address and per-session limits refuse cleanly and spare honest members."""

from __future__ import annotations

import asyncio
import secrets

from accord.protocol import commands as C
from accord.protocol import events as E
from accord.protocol.errors import CloseCode
from accord.protocol.messages import Create, Error, Hello, Welcome
from accord.server.relay import Relay
from server_support import RelayFactory, WireClient, fetch


async def refused(relay: Relay, intro: Create | Hello) -> tuple[Error, int | None]:
    """Send an intro that must be refused; the fatal error and the close code."""
    client = await WireClient.open(relay.url)
    await client.send(intro)
    code = await client.closed()
    error = client.messages[-1]
    assert isinstance(error, Error) and error.fatal, client.messages
    return error, code


async def test_creates_are_limited_per_address_but_retries_are_not(
    relay_factory: RelayFactory,
) -> None:
    """Past its create burst an address gets rate_limited (1008); a retried create still works."""
    relay = await relay_factory(create_burst=3, creates_per_minute=0.01)
    claim = secrets.token_hex(20)
    first = await WireClient.create(relay.url, claim=claim)
    await WireClient.create(relay.url)
    await WireClient.create(relay.url)
    error, code = await refused(relay, Create(question="One more?", name="Mallory"))
    assert error.code == "rate_limited" and "creates" in error.message
    assert code == CloseCode.POLICY
    retry = await WireClient.create(relay.url, claim=claim)
    assert retry.welcome is not None and first.welcome is not None
    assert retry.welcome.session_id == first.welcome.session_id
    assert await relay.store.count() == 3


async def test_failed_joins_are_limited_per_address(relay_factory: RelayFactory) -> None:
    """Wrong codes cost the address; past the burst even guesses are refused before any lookup.

    Members who resume with their token from elsewhere never spend that budget.
    """
    relay = await relay_factory(failed_join_burst=3, failed_joins_per_minute=0.01)
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    for _ in range(5):  # honest resumes do not count
        pat = await pat.resume()
    for n in range(3):
        error, code = await refused(relay, Hello(code=f"wrong-code-{n}", name="Eve"))
        assert error.code == "unauthorized" and code == CloseCode.UNAUTHORIZED
    error, code = await refused(relay, Hello(code=fac.secrets.participant_code, name="Eve"))
    assert error.code == "rate_limited" and code == CloseCode.POLICY
    await pat.ok(C.AddCard(lane="value", text="still here"))


async def test_session_cap_holds_under_concurrent_creates(relay_factory: RelayFactory) -> None:
    """20 creates racing over sockets against a cap of 5 store exactly 5 sessions."""
    relay = await relay_factory(max_sessions=5, create_burst=100)
    clients = await asyncio.gather(*(WireClient.open(relay.url) for _ in range(20)))
    await asyncio.gather(
        *(c.send(Create(question="Race?", name=f"R{i}")) for i, c in enumerate(clients))
    )
    answers = await asyncio.gather(*(c.recv() for c in clients))
    welcomed = [a for a in answers if isinstance(a, Welcome)]
    limits = [a for a in answers if isinstance(a, Error) and a.code == "limit"]
    assert len(welcomed) == 5 and len(limits) == 15
    assert await relay.store.count() == 5


async def test_event_budget_warns_then_refuses_but_close_works(
    relay_factory: RelayFactory,
) -> None:
    """At 80% of the event budget everyone gets budget_warned; at 100% commands get limit."""
    relay = await relay_factory(max_session_events=100, rate_limit=1000.0, rate_burst=1000)
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    refusal: Error | None = None
    for n in range(120):
        reply = await pat.cmd(C.SetReady(ready=bool(n % 2)))
        if isinstance(reply, Error):
            refusal = reply
            break
    assert refusal is not None and refusal.code == "limit" and "events" in refusal.message
    await fac.catch_up(pat.seq)
    warned = [e for e in fac.events if isinstance(e.body, E.BudgetWarned)]
    assert len(warned) == 1
    body = warned[0].body
    assert isinstance(body, E.BudgetWarned) and body.budget == "events"
    assert warned[0].seq >= 80 and warned[0].by == "relay"
    await fac.ok(C.CloseSession())  # a full session can still end with its record
    assert fac.session is not None and fac.session.closed


async def test_byte_budget_refuses_a_board_that_grew_too_big(relay_factory: RelayFactory) -> None:
    """A participant who fills someone else's board hits a limit at the byte budget."""
    relay = await relay_factory(max_session_bytes=64 * 1024, rate_limit=1000.0, rate_burst=1000)
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    refusal: Error | None = None
    for n in range(300):
        reply = await pat.cmd(C.AddCard(lane="value", text=f"{n} " + "x" * 490))
        if isinstance(reply, Error):
            refusal = reply
            break
    assert refusal is not None and refusal.code == "limit" and "size" in refusal.message
    host = relay.hub.hosts[fac.welcome.session_id]  # type: ignore[union-attr]
    assert host.session.seq < 200
    await fac.catch_up(host.session.seq)
    assert any(isinstance(e.body, E.BudgetWarned) and e.body.budget == "bytes" for e in fac.events)


async def test_nearly_full_disk_refuses_writes_and_readyz_says_why(
    relay_factory: RelayFactory,
) -> None:
    """Below the free-space floor commands and creates are refused; /readyz names the disk."""
    relay = await relay_factory()
    fac = await WireClient.create(relay.url)
    base = relay.url.replace("ws", "http")
    relay.guards.disk.floor = 1 << 62  # more than any disk has free
    reply = await fac.cmd(C.AddCard(lane="value", text="no room"))
    assert isinstance(reply, Error) and reply.code == "server_error" and "disk" in reply.message
    status, text = await fetch(base + "/readyz")
    assert status == 503 and "disk nearly full" in text
    error, code = await refused(relay, Create(question="Room?", name="Fran"))
    assert error.code == "server_error" and code == CloseCode.INTERNAL
    relay.guards.disk.floor = 0
    await fac.ok(C.AddCard(lane="value", text="room again"))
    assert (await fetch(base + "/readyz"))[0] == 200


async def test_full_board_hellos_are_limited_per_address(relay_factory: RelayFactory) -> None:
    """Hellos without last_seq spend the snapshot budget; resumes with last_seq do not."""
    relay = await relay_factory(snapshot_burst=3, snapshots_per_minute=0.01)
    fac = await WireClient.create(relay.url)
    for _ in range(3):
        client = await WireClient.open(relay.url)
        await client.send(Hello(token=fac.token))
        assert isinstance(await client.recv(), Welcome)
    error, code = await refused(relay, Hello(token=fac.token))
    assert error.code == "rate_limited" and code == CloseCode.POLICY
    for _ in range(5):
        fac = await fac.resume()  # with last_seq and epoch: replay, not throttled
    assert fac.welcome is not None and fac.welcome.mode == "replay"

"""Credentials and authorization: who may connect, and what each role may do."""

from __future__ import annotations

from typing import Any

import pytest
from accord.protocol import codec
from accord.protocol import commands as C
from accord.protocol.errors import CloseCode
from accord.protocol.messages import Cmd, Create, Error, Hello, Pong
from accord.server.relay import Relay
from server_support import RelayFactory, WireClient


async def _refused(client: WireClient) -> tuple[Error, int | None]:
    """The fatal error frame and the close code that ended a refused connection."""
    code = await client.closed()
    errors = [m for m in client.messages if isinstance(m, Error)]
    assert errors, "no error frame before the close"
    assert errors[-1].fatal
    return errors[-1], code


async def test_unknown_join_code_is_refused(relay: Relay) -> None:
    """A join code the relay never issued gets an unauthorized error and close 4001."""
    await WireClient.create(relay.url)
    client = await WireClient.open(relay.url)
    await client.send(Hello(code="2345-6789-abcde", name="Mallory"))
    error, code = await _refused(client)
    assert error.code == "unauthorized" and code == CloseCode.UNAUTHORIZED


async def test_unknown_token_is_refused(relay: Relay) -> None:
    """A member token the relay never issued gets an unauthorized error and close 4001."""
    client = await WireClient.open(relay.url)
    await client.send(Hello(token="x" * 32, last_seq=3, epoch="e1"))
    error, code = await _refused(client)
    assert error.code == "unauthorized" and code == CloseCode.UNAUTHORIZED


async def test_hello_without_credentials_is_refused(relay: Relay) -> None:
    """A hello with neither code nor token gets close 4001."""
    client = await WireClient.open(relay.url)
    await client.send(Hello(name="Nobody"))
    error, code = await _refused(client)
    assert error.code == "unauthorized" and code == CloseCode.UNAUTHORIZED


async def test_code_and_token_are_not_interchangeable(relay: Relay) -> None:
    """A join code does not work as a member token, nor a member token as a join code."""
    fac = await WireClient.create(relay.url)
    as_token = await WireClient.open(relay.url)
    await as_token.send(Hello(token=fac.secrets.participant_code))
    assert (await _refused(as_token))[1] == CloseCode.UNAUTHORIZED
    as_code = await WireClient.open(relay.url)
    await as_code.send(Hello(code=fac.token, name="Eve"))
    assert (await _refused(as_code))[1] == CloseCode.UNAUTHORIZED


async def test_codes_ignore_case_dashes_and_spaces(relay: Relay) -> None:
    """A join code typed in capitals with spaces instead of dashes still works."""
    fac = await WireClient.create(relay.url)
    code = fac.secrets.participant_code
    assert len(code.replace("-", "")) == 13 and code.count("-") == 2
    typed = code.upper().replace("-", " ")
    pat = await WireClient.join(relay.url, typed, "Pat")
    assert pat.welcome is not None and pat.welcome.role == "participant"
    partner = await WireClient.join(relay.url, fac.secrets.partner_code, "Acme rep")
    assert partner.welcome is not None and partner.welcome.role == "partner"


async def test_join_needs_a_name(relay: Relay) -> None:
    """Joining with a good code but no name is a bad hello (4005)."""
    fac = await WireClient.create(relay.url)
    client = await WireClient.open(relay.url)
    await client.send(Hello(code=fac.secrets.participant_code, name=" "))
    error, code = await _refused(client)
    assert error.code == "bad_message" and code == CloseCode.BAD_HELLO


async def test_no_hello_in_time_is_closed(relay_factory: RelayFactory) -> None:
    """A client that says nothing is closed with 4002 after the hello timeout."""
    relay = await relay_factory(hello_timeout=0.3)
    client = await WireClient.open(relay.url)
    error, code = await _refused(client)
    assert code == CloseCode.HELLO_TIMEOUT and "hello" in error.message


async def test_command_before_hello_is_a_bad_hello(relay: Relay) -> None:
    """A command as the first frame gets an error and close 4005."""
    client = await WireClient.open(relay.url)
    await client.send(Cmd(op="o1", c=C.SetReady(ready=True)))
    error, code = await _refused(client)
    assert error.code == "bad_message" and code == CloseCode.BAD_HELLO


async def test_garbage_hello_is_a_bad_hello(relay: Relay) -> None:
    """Bytes that are not msgpack as the first frame get the codec's code and close 4005."""
    client = await WireClient.open(relay.url)
    await client.send_raw(b"\xc1\xc1\xc1")
    error, code = await _refused(client)
    assert error.code == "bad_frame" and code == CloseCode.BAD_HELLO


async def test_admin_token_guards_create(relay_factory: RelayFactory) -> None:
    """With an admin token configured, only a create carrying it gets a session."""
    relay = await relay_factory(admin_token="s3cret-admin")
    client = await WireClient.open(relay.url)
    await client.send(Create(question="Q?", name="Fran"))
    error, code = await _refused(client)
    assert error.code == "unauthorized" and code == CloseCode.UNAUTHORIZED
    fac = await WireClient.create(relay.url, admin_token="s3cret-admin")
    assert fac.welcome is not None and fac.welcome.role == "facilitator"


async def test_session_cap(relay_factory: RelayFactory) -> None:
    """Creating more sessions than max_sessions is refused with a limit error."""
    relay = await relay_factory(max_sessions=1)
    await WireClient.create(relay.url)
    client = await WireClient.open(relay.url)
    await client.send(Create(question="One more?", name="Fran"))
    error, _ = await _refused(client)
    assert error.code == "limit"


async def test_member_cap(relay_factory: RelayFactory) -> None:
    """Joining a session at max_members is refused with a limit error."""
    relay = await relay_factory(max_members=2)
    fac = await WireClient.create(relay.url)
    await WireClient.join(relay.url, fac.secrets.participant_code, "Two")
    client = await WireClient.open(relay.url)
    await client.send(Hello(code=fac.secrets.participant_code, name="Three"))
    error, _ = await _refused(client)
    assert error.code == "limit"


async def test_item_cap(relay_factory: RelayFactory) -> None:
    """Adding more cards than max_cards is refused with a limit error and nothing changes."""
    relay = await relay_factory(max_cards=2)
    fac = await WireClient.create(relay.url)
    await fac.ok(C.AddCard(lane="value", text="one"))
    await fac.ok(C.AddCard(lane="value", text="two"))
    seq = fac.seq
    reply = await fac.cmd(C.AddCard(lane="value", text="three"))
    assert isinstance(reply, Error) and reply.code == "limit"
    assert relay.hub.hosts[fac.welcome.session_id].session.seq == seq  # type: ignore[union-attr]


# ---- the role matrix ---------------------------------------------------------------------


async def _matrix_board(relay: Relay) -> tuple[WireClient, dict[str, WireClient], dict[str, Any]]:
    fac = await WireClient.create(relay.url)
    s = fac.secrets
    members = {
        "participant": await WireClient.join(relay.url, s.participant_code, "Pat", "Sales"),
        "partner": await WireClient.join(relay.url, s.partner_code, "Acme", "Partner"),
        "observer": await WireClient.join(relay.url, s.observer_code, "Obi", "Audit"),
    }
    await fac.ok(C.AddCard(lane="value", text="mine"))
    await fac.ok(C.AddCard(lane="value", text="other"))
    await fac.ok(C.AddNeed(text="Fast"))
    await fac.ok(C.AddOption(kind="internal", title="Do it ourselves"))
    await fac.ok(C.OpenVote(kind="dots", dots=3))
    session = fac.session
    assert session is not None
    ids = {
        "cards": list(session.cards),
        "need": next(iter(session.needs)),
        "option": next(o for o in session.options if o != "baseline"),
        "vote": next(iter(session.votes)),
    }
    for client in members.values():
        await client.catch_up(fac.seq)
    return fac, members, ids


def _facilitator_only(ids: dict[str, Any]) -> list[Any]:
    c1, c2 = ids["cards"]
    return [
        C.SetPhase(phase="needs"),
        C.StartTimer(seconds=60),
        C.StopTimer(),
        C.EditQuestion(question="A different question?"),
        C.DeleteCard(card_id=c1),
        C.MergeCards(source_id=c1, target_id=c2),
        C.EditCard(card_id=c1, text="not yours"),
        C.OpenVote(kind="dots"),
        C.CloseVote(vote_id=ids["vote"]),
        C.RevealVote(vote_id=ids["vote"]),
        C.SettleNeed(need_id=ids["need"], cls="must"),
        C.SetWeight(need_id=ids["need"], weight=5),
        C.DeleteNeed(need_id=ids["need"]),
        C.MergeNeeds(source_id=ids["need"], target_id=ids["need"]),
        C.DeleteOption(option_id=ids["option"]),
        C.Propose(option_id=ids["option"], statement="Do it ourselves"),
        C.RecordDecision(option_id=ids["option"], statement="Decided"),
        C.CloseSession(),
    ]


def _forbidden_for(role: str, ids: dict[str, Any]) -> list[Any]:
    extra: list[Any] = []
    if role in ("partner", "observer"):
        extra += [
            C.AddCard(lane="value", text="sneaky"),
            C.Cast(vote_id=ids["vote"], marks={ids["cards"][0]: 1}),
            C.AddNeed(text="sneaky need"),
            C.AddOption(kind="other", title="sneaky option"),
        ]
    if role == "observer":
        extra += [C.SetReady(ready=True), C.AddNote(option_id=ids["option"], text="hi")]
    return _facilitator_only(ids) + extra


@pytest.mark.parametrize("role", ["participant", "partner", "observer"])
async def test_role_matrix(relay: Relay, role: str) -> None:
    """Each forbidden command of a role gets `forbidden`, changes nothing, and reaches nobody."""
    fac, members, ids = await _matrix_board(relay)
    host = relay.hub.hosts[fac.welcome.session_id]  # type: ignore[union-attr]
    offender = members[role]
    others = [fac, *(c for r, c in members.items() if r != role)]
    before = codec.encode_plain(host.session)
    commands = _forbidden_for(role, ids)
    for command in commands:
        reply = await offender.cmd(command)
        assert isinstance(reply, Error), f"{role} was allowed {type(command).__name__}"
        assert reply.code == "forbidden", (type(command).__name__, reply.code, reply.message)
    assert codec.encode_plain(host.session) == before, "a refused command changed the session"
    for other in others:
        seen = len(other.messages)
        await other.ping()
        arrived = other.messages[seen:]
        assert len(arrived) == 1 and isinstance(arrived[0], Pong), arrived

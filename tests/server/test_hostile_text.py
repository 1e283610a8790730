"""Hostile text over real sockets: refused with bad_message, the session unchanged, nobody hurt."""

from __future__ import annotations

import pytest
from accord.protocol import codec
from accord.protocol import commands as C
from accord.protocol.errors import CloseCode
from accord.protocol.messages import Create, Error, Hello
from accord.server.relay import Relay
from server_support import WireClient

#: What the hostile review used: a title set, a screen clear, a bidi flip, a stray line.
HOSTILE = {
    "osc title": "Eve\x1b]0;TITLE\x1b\\",
    "clear screen": "Ops\x1b[2J",
    "c1 csi": "Ops\x9b2J",
    "bidi override": "Eve\u202etxt.exe",
    "second line": "QA\n\n<!--",
}


def _host_state(relay: Relay, session_id: str) -> bytes:
    return codec.encode_plain(relay.hub.hosts[session_id].session)


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_hostile_name_or_department_cannot_join(relay: Relay, case: str) -> None:
    """A join whose name or department breaks the text policy is refused and adds nobody."""
    fac = await WireClient.create(relay.url)
    session_id = fac.welcome.session_id  # type: ignore[union-attr]
    before = _host_state(relay, session_id)
    for field in ("name", "department"):
        fields = {"name": "Eve", "department": "QA", field: HOSTILE[case]}
        eve = await WireClient.open(relay.url)
        code = fac.secrets.participant_code
        await eve.send(Hello(code=code, name=fields["name"], department=fields["department"]))
        assert await eve.closed() == CloseCode.BAD_HELLO
        error = eve.messages[-1]
        assert isinstance(error, Error) and error.code == "bad_message" and error.fatal
        assert error.message.startswith(f"{field}: "), error.message
        assert HOSTILE[case] not in error.message
    assert _host_state(relay, session_id) == before
    assert not await fac.quiet(0.1)  # no member_joined reached anyone
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat", "Finance")
    assert pat.session is not None and [m.name for m in pat.session.members.values()] == [
        "Fran",
        "Pat",
    ]


async def test_hostile_question_creates_nothing(relay: Relay) -> None:
    """A create whose question or name holds an escape sequence creates no session."""
    for fields in (
        {"question": "Pick one\x1b[1A\x1b[2K", "name": "Fran"},
        {"question": "Pick one", "name": "Fran\u2066"},
    ):
        client = await WireClient.open(relay.url)
        await client.send(Create(**fields))
        assert await client.closed() == CloseCode.BAD_HELLO
        error = client.messages[-1]
        assert isinstance(error, Error) and error.code == "bad_message"
    assert await relay.store.count() == 0
    assert not relay.hub.hosts


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_hostile_card_text_is_refused_and_members_keep_going(relay: Relay, case: str) -> None:
    """Card text with control or bidi characters is bad_message for its op; nothing changes."""
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    session_id = fac.welcome.session_id  # type: ignore[union-attr]
    await fac.ok(C.AddCard(lane="value", text="Honest card"))
    await pat.catch_up(fac.seq)
    before = _host_state(relay, session_id)
    text = HOSTILE[case]
    if "\n" in text:  # card text may have lines, so make it hostile another way
        text += "\x00"
    reply = await pat.cmd(C.AddCard(lane="value", text=text))
    assert isinstance(reply, Error) and reply.code == "bad_message" and not reply.fatal
    assert reply.message.startswith("c.text: ") and "is not allowed" in reply.message
    assert _host_state(relay, session_id) == before
    assert not await fac.quiet(0.1)  # the facilitator saw nothing
    await pat.ok(C.AddCard(lane="value", text="Honest again"))
    await fac.catch_up(pat.seq)
    assert fac.session is not None
    assert [c.text for c in fac.session.live_cards()] == ["Honest card", "Honest again"]


async def test_multi_line_text_arrives_whole(relay: Relay) -> None:
    """Several lines in a long-form field reach every member as sent; a one-line field refuses."""
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    card = "First point\nSecond point\n\nThird, after a blank line"
    await pat.ok(C.AddCard(lane="value", text=card))
    await fac.ok(C.AddNeed(text="Fast answers", why="Customers leave\nwhen we are slow"))
    await pat.catch_up(fac.seq)
    assert fac.session is not None and pat.session is not None
    assert [c.text for c in fac.session.live_cards()] == [card]
    assert [n.why for n in pat.session.live_needs()] == ["Customers leave\nwhen we are slow"]
    reply = await fac.cmd(C.AddNeed(text="Fast\nanswers"))
    assert isinstance(reply, Error) and reply.code == "bad_message"
    assert reply.message == "c.text: line break U+000A is not allowed in a one-line field"

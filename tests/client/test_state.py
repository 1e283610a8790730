"""The client state machine without sockets: hellos, op ids, acks, refusals, gaps, resumes."""

from __future__ import annotations

import pytest
from accord.client import Applied, ClientState, CommandChanged, ConnectionFailed, Resync
from accord.protocol import events as E
from accord.protocol.commands import AddCard, SetReady
from accord.protocol.messages import Ack, Create, Error, Hello, Presence, Welcome
from accord.protocol.model import Card, Session, new_session
from accord.protocol.reducer import apply_event
from accord.protocol.rules import join

NOW = 1_800_000_000.0


def session_with(names: list[str]) -> Session:
    """A session with members joined by the real rules; the first is the facilitator."""
    session = new_session("s1", "Which way?", NOW)
    session.seq = 1
    for i, name in enumerate(names):
        body = join(session, name, "facilitator" if i == 0 else "participant", "Ops", NOW)
        apply_event(session, E.Event(seq=session.seq + 1, at=NOW, by=body.member.id, body=body))
    return session


def welcomed(
    session: Session, member: str, online: list[str] | None = None
) -> tuple[ClientState, str]:
    """A state for ``member`` welcomed with a snapshot of ``session``; returns it and the id."""
    state = ClientState(Hello(code="2222-3333-44444", name=member), op_prefix="t")
    member_id = next(m.id for m in session.members.values() if m.name == member)
    welcome = Welcome(
        session_id=session.id,
        member_id=member_id,
        role=session.members[member_id].role,
        epoch="e1",
        seq=session.seq,
        mode="snapshot",
        snapshot=session,
        token="tok-" + member_id,
        online=list(session.members) if online is None else online,
    )
    state.take_welcome(welcome, NOW)
    return state, member_id


def card_event(seq: int, by: str, op: str = "") -> E.Event:
    """A card added at ``seq``."""
    card = Card(id=f"c{seq}", lane="value", text="Faster", author=by)
    return E.Event(seq=seq, at=NOW, by=by, op=op, body=E.CardAdded(card=card))


def test_intro_carries_one_claim_until_a_welcome_then_resumes() -> None:
    """A create gets a claim that every retry repeats; after the welcome, hello is a resume."""
    state = ClientState(Create(question="Which way?", name="Fay"))
    first = state.hello()
    assert isinstance(first, Create) and len(first.claim) == 40
    assert state.hello() == first
    session = session_with(["Fay"])
    state.take_welcome(
        Welcome(
            session_id="s1",
            member_id=next(iter(session.members)),
            role="facilitator",
            epoch="e1",
            seq=session.seq,
            mode="snapshot",
            snapshot=session,
            token="tok",
        ),
        NOW,
    )
    assert state.hello() == Hello(token="tok", last_seq=session.seq, epoch="e1")
    state.forget_session()
    assert state.hello() == Hello(token="tok", last_seq=0, epoch="")


def test_op_ids_are_unique_and_carry_the_prefix() -> None:
    """Op ids never repeat within a client and start with its prefix."""
    state = ClientState(Hello(token="t"), op_prefix="abc")
    ops = [state.next_op() for _ in range(300)]
    assert len(set(ops)) == 300 and all(op.startswith("abc-") for op in ops)


def test_an_ack_settles_only_once_its_event_is_applied() -> None:
    """An ack that overtakes its event waits; the event then settles the command as acked."""
    session = session_with(["Fay", "Priya"])
    state, me = welcomed(session, "Priya")
    out, updates = state.submit(AddCard("value", "Faster"))
    assert [type(u) for u in updates] == [CommandChanged] and out.op in state.outbox
    seq = session.seq + 1
    assert state.receive(Ack(op=out.op, seq=seq), NOW) == []
    assert out.op in state.outbox  # still pending
    updates = state.receive(card_event(seq, me, out.op), NOW)
    assert [type(u) for u in updates] == [Applied, CommandChanged]
    assert out.state == "acked" and out.seq == seq and not state.outbox


def test_a_retry_answered_as_duplicate_settles_once() -> None:
    """The relay's duplicate ack for a resent op settles it with ``duplicate`` set."""
    session = session_with(["Fay", "Priya"])
    state, _ = welcomed(session, "Priya")
    out, _ = state.submit(SetReady(ready=True))
    updates = state.receive(Ack(op=out.op, seq=session.seq, duplicate=True), NOW)
    assert [type(u) for u in updates] == [CommandChanged]
    assert out.state == "acked" and out.duplicate
    assert state.receive(Ack(op=out.op, seq=session.seq), NOW) == []  # a late second answer


def test_a_refusal_fails_its_command_and_a_fatal_error_stops() -> None:
    """An error naming an op fails that command; a fatal error raises ConnectionFailed."""
    session = session_with(["Fay", "Priya"])
    state, _ = welcomed(session, "Priya")
    out, _ = state.submit(SetReady(ready=True))
    state.receive(Error(code="wrong_phase", message="not now", op=out.op), NOW)
    assert (out.state, out.code, out.reason) == ("failed", "wrong_phase", "not now")
    with pytest.raises(ConnectionFailed, match="gone"):
        state.receive(Error(code="session_closed", message="gone", fatal=True), NOW)


def test_a_gap_asks_for_a_resync_and_old_events_are_ignored() -> None:
    """An event past the next seq raises Resync; one already applied changes nothing."""
    session = session_with(["Fay", "Priya"])
    state, me = welcomed(session, "Priya")
    head = session.seq
    with pytest.raises(Resync):
        state.receive(card_event(head + 2, me), NOW)
    assert state.receive(card_event(head, me), NOW) == []
    assert state.session is not None and state.session.seq == head


def test_presence_and_ending_fail_what_is_pending() -> None:
    """Presence updates who is online; ending the link fails every unanswered command."""
    session = session_with(["Fay", "Priya"])
    state, me = welcomed(session, "Priya", online=[])
    state.receive(Presence(member_id=me, online=True), NOW)
    assert state.online == {me}
    outs = [state.submit(SetReady(ready=r))[0] for r in (True, False)]
    updates = state.fail_pending("closed")
    assert len(updates) == 2 and not state.outbox
    assert all(o.state == "failed" and o.reason == "not delivered: closed" for o in outs)


def test_a_replay_to_a_client_without_a_session_is_refused() -> None:
    """A replay welcome for a client that holds no session stops it with a clear reason."""
    state = ClientState(Hello(token="t"))
    welcome = Welcome(
        session_id="s1", member_id="m1", role="participant", epoch="e1", seq=5, mode="replay"
    )
    with pytest.raises(ConnectionFailed, match="no session"):
        state.take_welcome(welcome, NOW)

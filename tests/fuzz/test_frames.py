"""Hypothesis-driven frames against a live relay: it stays up, others work, nothing leaks.

Each example is one scenario: its connections are closed at the end and the
relay's open connections, asyncio tasks and loaded sessions must return to
where they were (``Live.scenario``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import msgpack
import pytest
import suite_env
from accord.protocol import PROTOCOL_VERSION, codec
from accord.protocol import commands as C
from accord.protocol.errors import CloseCode
from accord.protocol.messages import Ack, Cmd, Create, Error, Hello, Ping
from fuzz_support import Live, Peer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.procs import rss_bytes
from bench.wire import OP_TEXT, encode_frame

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]
#: websockets closes with 1002 on a frame that breaks RFC 6455.
PROTOCOL_ERROR = 1002
EXAMPLES = suite_env.FUZZ_EXAMPLES
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Room:
    """A session with a facilitator who stays connected (the bystander) and its codes."""

    fac: Peer
    session_id: str
    participant_code: str
    facilitator_key: str

    def state(self, live: Live) -> bytes:
        """The relay's session, encoded (for exact before/after comparisons)."""
        return codec.encode_plain(live.session(self.session_id))

    def alive(self, live: Live, n: int) -> None:
        """The bystander still gets answers from the relay."""
        assert live.run(self.fac.ping(n)), "the relay stopped answering the bystander"


@pytest.fixture
def room(live: Live) -> Iterator[Room]:
    """A fresh session whose facilitator stays connected for the whole test."""
    fac = Peer(live)
    welcome = live.run(fac.hello(Create(question="Fuzz?", name="Fac")))
    assert not isinstance(welcome, Error) and welcome.secrets is not None
    secrets = welcome.secrets
    live.quiet()
    yield Room(fac, welcome.session_id, secrets.participant_code, secrets.facilitator_key)
    live.run(fac.close())


def join(live: Live, room: Room, peers: list[Peer], name: str = "Pat") -> Peer:
    """A new participant joined with the code."""
    peer = Peer(live)
    peers.append(peer)
    welcome = live.run(peer.hello(Hello(code=room.participant_code, name=name)))
    assert not isinstance(welcome, Error), welcome
    return peer


def valid_frames(room: Room) -> list[bytes]:
    """Well-formed frames of every kind, to mutate."""
    return [
        codec.encode(Cmd(op="m1", c=C.SetReady(ready=True))),
        codec.encode(Cmd(op="m2", c=C.AddCard(lane="value", text="a card"))),
        codec.encode(Cmd(op="m3", c=C.OpenVote(kind="dots", hidden=True, anonymous=True))),
        codec.encode(Cmd(op="m4", c=C.SetPhase(phase="needs"))),
        codec.encode(Ping(n=3)),
        codec.encode(Hello(code=room.participant_code, name="Again")),
        codec.encode(Hello(token=room.facilitator_key, last_seq=1, epoch="e")),
        codec.encode(Create(question="Another?", name="X")),
    ]


@st.composite
def mutated(draw: st.DrawFn, frames: list[bytes]) -> bytes:
    """A valid frame with a few bytes flipped, inserted, deleted, or the end cut off."""
    data = bytearray(draw(st.sampled_from(frames)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete" and data:
            del data[at : at + draw(st.integers(1, 4))]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


# ---- random bytes ---------------------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=3000))
def test_random_bytes_as_hello_close_the_connection(live: Live, room: Room, data: bytes) -> None:
    """Random bytes as the first frame get a fatal error and a close; the relay serves on."""
    with live.scenario() as peers:
        peer = Peer(live)
        peers.append(peer)
        live.run(peer.connect())
        peer.send_raw(data)
        live.run(peer.wait(lambda: not peer.open))
        assert peer.close_code in (CloseCode.BAD_HELLO, CloseCode.UNAUTHORIZED), peer.close_code
        assert peer.errors and peer.errors[-1].fatal
        room.alive(live, 1)


@FUZZ
@given(data=st.binary(min_size=1, max_size=3000))
def test_random_bytes_after_hello_change_nothing(live: Live, room: Room, data: bytes) -> None:
    """Random bytes from a member get an error frame; the session and the link are unchanged."""
    with live.scenario() as peers:
        pat = join(live, room, peers)
        before = room.state(live)
        pat.send_raw(data)
        assert live.run(pat.ping(2)), "the member's connection did not survive a bad frame"
        assert not pat.acks, f"random bytes were acknowledged: {data!r}"
        assert room.state(live) == before
        room.alive(live, 2)


@FUZZ
@given(data=st.binary(min_size=1, max_size=120), unmasked=st.booleans())
def test_random_wire_bytes_break_only_their_connection(
    live: Live, room: Room, data: bytes, unmasked: bool
) -> None:
    """Bytes that are not websocket frames end that connection only."""
    with live.scenario() as peers:
        pat = join(live, room, peers)
        before = room.state(live)
        assert pat.client is not None
        # An unmasked client frame, or one with reserved bits set, is a protocol error.
        head = bytes([0x82 if unmasked else 0xF2, len(data) if unmasked else 0x80 | len(data)])
        pat.client.write(head + (b"" if unmasked else b"\x00" * 4) + data)
        live.run(pat.wait(lambda: not pat.open, timeout=3))
        assert pat.close_code == PROTOCOL_ERROR, pat.close_code
        assert room.state(live) == before
        room.alive(live, 3)


# ---- mutated frames -----------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_mutated_frames_change_state_only_when_acked(live: Live, room: Room, data: Any) -> None:
    """A mutated frame either fails cleanly or is one valid command that was acknowledged."""
    with live.scenario() as peers:
        pat = join(live, room, peers)
        frame = data.draw(mutated(valid_frames(room)))
        before = live.session(room.session_id)
        pat.send_raw(frame)
        # A barrier the rules always refuse: its error comes after the frame's own answer,
        # because the session handles one member's commands in order (a pong would not).
        barrier = live.run(pat.command(C.StopTimer(), op="barrier"))
        assert isinstance(barrier, Error) and barrier.code == "forbidden", barrier
        after = live.session(room.session_id)
        applied = sum(1 for ack in pat.acks.values() if not ack.duplicate)
        assert after.seq - before.seq == applied, (frame, pat.acks, pat.errors)
        if not applied:
            assert codec.encode_plain(after) == codec.encode_plain(before)
        assert len(after.members) == len(before.members), "a second hello added a member"
        room.alive(live, 4)


# ---- valid frames in invalid orders --------------------------------------------------------

STEPS = ["create", "join", "resume", "cmd", "ping", "garbage", "text"]


def more_errors(peer: Peer, seen: int) -> Callable[[], bool]:
    """A predicate: ``peer`` got an error frame beyond the first ``seen``."""
    return lambda: len(peer.errors) > seen


@FUZZ
@given(steps=st.lists(st.sampled_from(STEPS), min_size=1, max_size=6))
def test_frames_in_any_order_get_the_documented_answer(
    live: Live, room: Room, steps: list[str]
) -> None:
    """Only a first create/hello opens a session; anything else first closes with its code."""
    with live.scenario() as peers:
        peer = Peer(live)
        peers.append(peer)
        live.run(peer.connect())
        members = len(live.session(room.session_id).members)
        welcomed = False
        for i, step in enumerate(steps):
            n_errors = len(peer.errors)
            if step == "text":
                assert peer.client is not None
                peer.client.write(encode_frame(OP_TEXT, b'{"t": "ping"}'))
                live.run(peer.wait(lambda: not peer.open))
                assert peer.close_code == CloseCode.UNSUPPORTED_DATA
                break
            if not welcomed:
                if step in ("create", "join", "resume"):
                    intros: dict[str, Create | Hello] = {
                        "create": Create(question="Order?", name="O"),
                        "join": Hello(code=room.participant_code, name="O"),
                        "resume": Hello(token=room.facilitator_key),
                    }
                    welcome = live.run(peer.hello(intros[step]))
                    assert not isinstance(welcome, Error), welcome
                    welcomed = True
                    if step == "join":
                        members += 1
                    continue
                peer.send_raw(_frame_for(step))
                live.run(peer.wait(lambda: not peer.open))
                assert peer.close_code == CloseCode.BAD_HELLO, (steps, peer.close_code)
                assert peer.errors[-1].fatal
                break
            if step in ("create", "join", "resume"):
                peer.send_raw(_frame_for(step, room))
                assert live.run(peer.wait(more_errors(peer, n_errors)))
                assert peer.errors[-1].code == "bad_message" and not peer.errors[-1].fatal
            elif step == "cmd":
                answer = live.run(peer.command(C.SetReady(ready=i % 2 == 0)))
                assert isinstance(answer, Ack | Error)
            elif step == "ping":
                assert live.run(peer.ping(100 + i))
            else:
                peer.send_raw(_frame_for(step))
                assert live.run(peer.wait(more_errors(peer, n_errors)))
                assert peer.errors[-1].code == "bad_frame"
        if welcomed and peer.open:
            assert live.run(peer.ping(99))
        joined = len(live.session(room.session_id).members) - members
        assert joined == 0, f"{steps}: {joined} members joined beyond the first hello"
        room.alive(live, 5)


def _frame_for(step: str, room: Room | None = None) -> bytes:
    if step == "create":
        return codec.encode(Create(question="Again?", name="X"))
    if step in ("join", "resume") and room is not None:
        if step == "join":
            return codec.encode(Hello(code=room.participant_code, name="X"))
        return codec.encode(Hello(token=room.facilitator_key))
    if step == "cmd":
        return codec.encode(Cmd(op="early", c=C.SetReady(ready=True)))
    if step == "ping":
        return codec.encode(Ping(n=1))
    return b"\xc1\xc1 not msgpack"


# ---- floods ------------------------------------------------------------------------------


def test_many_small_frames_close_only_the_flooder(live: Live, room: Room) -> None:
    """A burst of tiny frames gets rate-limit errors, then 1008; others work on, memory holds."""
    with live.scenario() as peers:
        pat = join(live, room, peers)
        watcher = join(live, room, peers, "Watcher")
        rss = rss_bytes(os.getpid())
        ping = msgpack.packb({"t": "ping", "v": PROTOCOL_VERSION, "n": 1})
        burst = b"".join(encode_frame(0x2, ping) for _ in range(5000))
        assert pat.client is not None
        t = time.perf_counter()
        pat.client.write(burst)
        answer = live.run(room.fac.command(C.SetReady(ready=True)))
        took = time.perf_counter() - t
        assert isinstance(answer, Ack), answer
        assert took < 2.0, f"the bystander waited {took:.2f} s during a flood"
        assert live.run(
            watcher.wait(lambda: watcher.session is not None and watcher.session.seq >= answer.seq)
        )
        live.run(pat.wait(lambda: not pat.open))
        assert pat.close_code == CloseCode.POLICY
        assert any(e.code == "rate_limited" for e in pat.errors)
        grown = rss_bytes(os.getpid()) - rss
        assert grown < 64 * 2**20, f"RSS grew {grown / 2**20:.1f} MiB during a flood"
        room.alive(live, 6)


def test_many_small_valid_commands_all_land_once(live: Live, room: Room) -> None:
    """Commands within the rate limit, sent back to back, are each applied exactly once."""
    with live.scenario() as peers:
        pat = join(live, room, peers)
        before = live.session(room.session_id).seq
        ops = [f"burst-{i}" for i in range(30)]
        frames = [
            codec.encode(Cmd(op=op, c=C.SetReady(ready=i % 2 == 0))) for i, op in enumerate(ops)
        ]
        assert pat.client is not None
        pat.client.write(b"".join(encode_frame(0x2, f) for f in frames))
        assert live.run(pat.wait(lambda: all(op in pat.acks for op in ops)))
        assert sorted(a.seq for a in pat.acks.values()) == list(range(before + 1, before + 31))
        assert live.run(
            pat.wait(lambda: pat.session is not None and pat.session.seq == before + 30)
        )
        assert pat.view_matches(live.session(room.session_id))
        assert not pat.problems, pat.problems

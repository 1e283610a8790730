"""Hostile text against a live relay: every string field with control, bidi or markup content.

Hypothesis picks a command kind, one of its string fields (or a map key) and a
hostile piece of text. A piece the text policy refuses must come back as
``bad_message`` naming that field, with the session unchanged; markup is only
text, so it is either applied like any text or refused for another reason, and
a bystander decodes whatever the relay sends.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

import msgpack
import pytest
from accord.protocol import PROTOCOL_VERSION, codec
from accord.protocol import commands as C
from accord.protocol.errors import CloseCode
from accord.protocol.messages import Ack, Create, Error, Hello
from accord.protocol.schema import Range, Text
from accord.protocol.text import problem
from fuzz_support import Live, Peer, new_op
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("ACCORD_FUZZ_EXAMPLES", "50"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Pieces of hostile text: terminal escapes, C0/C1 controls, bidi controls, markup, lines.
PIECES = st.one_of(
    st.sampled_from(
        [
            "\x1b]0;owned\x07",
            "\x1b[2J",
            "\x1b[1A\x1b[2K",
            "\x9b2J",
            "\u202e",
            "\u2066",
            "\u200f",
            "\u2028",
            "\n",
            "\r\n",
            "\t",
            "[link=http://x]click[/link]",
            "[b]bold[/b]",
            "[@click=app.quit]quit[/]",
            "<img src=x onerror=alert(1)>",
            "## Decision: forged",
        ]
    ),
    st.sampled_from([chr(c) for c in range(0xA0) if not chr(c).isprintable()]),
    st.characters(categories=["Cf"]),
)


@dataclass
class Site:
    """A string in a command: its field, whether it is a map key, its limit."""

    name: str
    lines: bool
    literal: bool = False
    key: bool = False
    #: Most characters the field takes (0: no text limit known here).
    most: int = 0


def _strip(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    limits: tuple[Any, ...] = ()
    while get_origin(tp) is Annotated:
        tp, *extra = get_args(tp)
        limits += tuple(extra)
    args = [a for a in get_args(tp) if a is not type(None)]
    if type(None) in get_args(tp) and len(args) == 1:
        return _strip(args[0])
    return tp, limits


def _command(cls: type) -> tuple[dict[str, Any], list[Site]]:
    """A valid plain command of kind ``cls`` and the string sites in it."""
    plain: dict[str, Any] = {"k": cls.KIND}  # type: ignore[attr-defined]
    sites: list[Site] = []
    hints = typing.get_type_hints(cls, include_extras=True)
    for f in dataclasses.fields(cls):
        tp, limits = _strip(hints[f.name])
        if tp is str:
            text = next(lim for lim in limits if isinstance(lim, Text))
            plain[f.name] = "a" * max(1, text.min)
            sites.append(Site(f.name, text.lines, most=text.max))
        elif get_origin(tp) is Literal:
            plain[f.name] = get_args(tp)[0]
            sites.append(Site(f.name, False, literal=True))
        elif get_origin(tp) is dict:
            plain[f.name] = {"k1": 1}
            sites.append(Site(f.name, False, key=True))
        elif tp is bool:
            plain[f.name] = True
        elif tp is int:
            rng = next(lim for lim in limits if isinstance(lim, Range))
            plain[f.name] = int(rng.lo)
    return plain, sites


COMMANDS = {cls.KIND: _command(cls) for cls in C.COMMAND_TYPES}  # type: ignore[attr-defined]
CASES = [(kind, i) for kind, (_, sites) in sorted(COMMANDS.items()) for i in range(len(sites))]


@dataclass
class Room:
    """A session whose facilitator stays connected as the bystander."""

    fac: Peer
    session_id: str
    participant_code: str

    def state(self, live: Live) -> bytes:
        """The relay's session, encoded (for exact before/after comparisons)."""
        return codec.encode_plain(live.session(self.session_id))


@pytest.fixture
def room(live: Live) -> Iterator[Room]:
    """A fresh session in the Needs phase, its facilitator connected for the whole test."""
    fac = Peer(live)
    welcome = live.run(fac.hello(Create(question="Hostile?", name="Fac")))
    assert not isinstance(welcome, Error) and welcome.secrets is not None
    assert isinstance(live.run(fac.command(C.SetPhase(phase="needs"))), Ack)
    live.quiet()
    yield Room(fac, welcome.session_id, welcome.secrets.participant_code)
    live.run(fac.close())


def _with(plain: dict[str, Any], site: Site, value: str) -> dict[str, Any]:
    out = dict(plain)
    if site.key:
        out[site.name] = {value: 1}
    else:
        out[site.name] = value
    return out


@FUZZ
@given(case=st.sampled_from(CASES), piece=PIECES, facilitator=st.booleans())
def test_hostile_text_in_any_command_field(
    live: Live, room: Room, case: tuple[str, int], piece: str, facilitator: bool
) -> None:
    """Refused text is bad_message naming the field and changes nothing; markup is just text."""
    kind, index = case
    plain, sites = COMMANDS[kind]
    site = sites[index]
    value = f"x{piece}x"
    with live.scenario() as peers:
        sender = room.fac
        if not facilitator:
            sender = Peer(live)
            peers.append(sender)
            welcome = live.run(sender.hello(Hello(code=room.participant_code, name="Pat")))
            assert not isinstance(welcome, Error), welcome
        before = room.state(live)
        op = new_op()
        frame = {"t": "cmd", "v": PROTOCOL_VERSION, "op": op, "c": _with(plain, site, value)}
        sender.send_raw(msgpack.packb(frame, use_bin_type=True))
        live.run(sender.wait(lambda: op in sender.acks or any(e.op == op for e in sender.errors)))
        answer = sender.acks.get(op) or next(e for e in sender.errors if e.op == op)
        too_long = bool(site.most) and len(value) > site.most
        refused = (
            site.literal or (site.key and problem(value)) or problem(value, site.lines) or too_long
        )
        event("refused" if refused else type(answer).__name__)
        if refused:
            assert isinstance(answer, Error) and answer.code == "bad_message", answer
            assert answer.message.startswith(f"c.{site.name}: "), answer.message
            assert piece not in answer.message or piece.isprintable()
            assert too_long or "expected str of at most" not in answer.message, answer.message
            assert room.state(live) == before
        elif isinstance(answer, Error):
            assert answer.code != "bad_message", answer
            assert room.state(live) == before
        else:
            assert live.run(room.fac.wait(lambda: room.fac.session.seq >= answer.seq))  # type: ignore[union-attr]
        assert not room.fac.problems and not sender.problems, room.fac.problems + sender.problems
        assert room.fac.view_matches(live.session(room.session_id))


@FUZZ
@given(piece=PIECES, field=st.sampled_from(["name", "department"]))
def test_hostile_names_join_only_as_plain_text(
    live: Live, room: Room, piece: str, field: str
) -> None:
    """A name or department with refused text closes the join; markup joins as literal text."""
    value = f"x{piece}x"
    with live.scenario() as peers:
        members = len(live.session(room.session_id).members)
        peer = Peer(live)
        peers.append(peer)
        fields = {"name": "Pat", "department": "QA", field: value}
        name, department = fields["name"], fields["department"]
        hello = Hello(code=room.participant_code, name=name, department=department)
        answer = live.run(peer.hello(hello))
        event("refused" if problem(value) else "joined")
        if problem(value) is not None:
            assert isinstance(answer, Error) and answer.code == "bad_message", answer
            assert answer.message.startswith(f"{field}: ")
            live.run(peer.wait(lambda: not peer.open))
            assert peer.close_code == CloseCode.BAD_HELLO
            assert len(live.session(room.session_id).members) == members
        else:
            assert not isinstance(answer, Error), answer
            seen = room.fac
            assert live.run(seen.wait(lambda: peer.member_id in seen.session.members))  # type: ignore[union-attr]
            assert getattr(seen.session.members[peer.member_id], field) == value  # type: ignore[union-attr]
        assert not room.fac.problems, room.fac.problems

"""``permissions`` answers "may this role do X" exactly as the relay's rules decide it."""

from __future__ import annotations

import pytest
from accord.protocol import commands as C
from accord.protocol import events as E
from accord.protocol.errors import ErrorCode, Refusal
from accord.protocol.model import Role, new_session
from accord.protocol.permissions import ABILITIES, may, why_not
from accord.protocol.reducer import apply_event
from accord.protocol.rules import decide, join

ROLES: tuple[Role, ...] = ("facilitator", "participant", "partner", "observer")
#: A command that needs nothing but the role, for each ability the relay checks that way.
PROBES: dict[str, C.Command] = {
    "move the board": C.SetPhase(phase="needs"),
    "open, reveal or close votes": C.OpenVote(kind="dots"),
    "run the timebox": C.StartTimer(seconds=60),
    "reword the question": C.EditQuestion(question="Which way now?"),
    "mark themselves ready": C.SetReady(ready=True),
    "add cards": C.AddCard(lane="value", text="Faster answers"),
}


def refused_for_role(role: Role, command: C.Command) -> bool:
    """Whether the relay's rules refuse ``command`` from a fresh member of ``role`` as forbidden."""
    session = new_session("s1", "Which way?", 1.0)
    ids: dict[Role, str] = {}
    for seq, each in enumerate(ROLES, start=2):
        body = join(session, each.title(), each, "", 1.0)
        apply_event(session, E.Event(seq=seq, at=1.0, by=body.member.id, body=body))
        ids[each] = body.member.id
    try:
        decide(session, ids[role], command, 2.0)
    except Refusal as refusal:
        return refusal.code is ErrorCode.FORBIDDEN
    return False


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("doing", list(PROBES))
def test_may_agrees_with_the_relay(role: Role, doing: str) -> None:
    """For every role, ``may`` says yes exactly when the relay does not refuse as forbidden."""
    assert may(role, doing) is not refused_for_role(role, PROBES[doing])


def test_why_not_is_one_plain_line() -> None:
    """A refusal names who can, in a sentence; an allowed ability gives no reason."""
    assert why_not("participant", "move the board") == "Only the facilitator can move the board."
    assert why_not("observer", "vote") == "An observer cannot vote."
    assert why_not("partner", "vote") == "A partner cannot vote."
    assert why_not("facilitator", "vote") == ""
    assert all(roles for roles in ABILITIES.values())

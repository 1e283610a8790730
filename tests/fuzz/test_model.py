"""A stateful model test over the real relay: every role's commands, drops, resumes, restarts.

After every step the invariants hold: each connected member's session equals
the relay's session as that member may see it; the stored log has no gap and
no op applied twice; every acknowledged op is in the log at its ack's seq;
voters equal ballots; and no member ever received a ballot it may not see.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
import suite_env
from accord.protocol import commands as C
from accord.protocol import results
from accord.protocol.ballots import answered
from accord.protocol.messages import Ack, Create, Error, Hello
from accord.protocol.model import LANES, PHASES, Session
from accord.server.store import decode_event
from chaos_support import check_privacy
from fuzz_support import Live, Peer, new_op
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

#: What the steps did, over all examples (the test asserts the model got somewhere).
TALLY: Counter[str] = Counter()
ROLES = ("participant", "participant", "participant", "partner", "observer")
pytestmark = [pytest.mark.fuzz, pytest.mark.slow]
STEPS = suite_env.FUZZ_MODEL_STEPS
EXAMPLES = suite_env.FUZZ_MODEL_EXAMPLES


def commands_for(s: Session, rng: random.Random) -> list[Any]:
    """Commands worth trying now, valid or not, built from what the relay holds."""
    cards = [c.id for c in s.live_cards()] or ["c404"]
    needs = [n.id for n in s.live_needs()] or ["n404"]
    options = list(s.options)
    votes = list(s.votes) or ["v404"]
    vote = s.open_vote()
    marks: dict[str, int] = {"proposal": rng.randint(0, 5)}
    if vote is not None and vote.kind == "dots":
        marks = {rng.choice(cards): rng.randint(0, 2)}
    elif vote is not None and vote.kind == "classify":
        marks = {rng.choice(needs): rng.randint(0, 2)}
    elif vote is not None and vote.kind == "score":
        crit = results.criteria(s)
        need = rng.choice(crit).need_id if crit else "n404"
        marks = {f"{rng.choice(options)}:{need}": rng.randint(0, 5)}
    vote_id = vote.id if vote is not None else rng.choice(votes)
    return [
        C.SetPhase(phase=rng.choice(PHASES)),
        C.SetReady(ready=rng.random() < 0.5),
        C.AddCard(lane=rng.choice(LANES), text="a card"),
        C.EditCard(card_id=rng.choice(cards), text="reworded"),
        C.MergeCards(source_id=rng.choice(cards), target_id=rng.choice(cards)),
        C.AddNeed(text="a need", why="why"),
        C.SettleNeed(need_id=rng.choice(needs), cls=rng.choice(["must", "optional", None])),
        C.SetWeight(need_id=rng.choice(needs), weight=rng.randint(1, 10)),
        C.AddOption(kind="partnership", title="a way"),
        C.AddNote(option_id=rng.choice(options), text="a fact"),
        C.OpenVote(
            kind=rng.choice(["dots", "classify", "score", "consensus"]),
            hidden=rng.random() < 0.7,
            anonymous=rng.random() < 0.5,
            method=rng.choice(["fist", "consent"]),
        ),
        C.Cast(vote_id=vote_id, marks=marks, reason="since"),
        C.Cast(vote_id=vote_id, marks=marks, reason="since"),
        C.CloseVote(vote_id=vote_id),
        C.RevealVote(vote_id=vote_id),
        C.Propose(option_id=rng.choice(options), statement="we do it"),
        C.StartTimer(seconds=60),
        C.StopTimer(),
        C.EditQuestion(question="Still deciding?"),
    ]


def progress_for(s: Session, rng: random.Random) -> list[Any]:
    """Commands that move a session forward from where it is (mostly valid ones)."""
    nxt = PHASES[(PHASES.index(s.phase) + 1) % len(PHASES)]
    kind = {"learn": "dots", "needs": "classify", "options": "score", "decide": "consensus"}
    out: list[Any] = [C.SetPhase(phase=nxt)]
    vote = s.open_vote()
    if vote is not None and vote.phase == s.phase:
        out += [c for c in commands_for(s, rng) if isinstance(c, C.Cast)]
        out += [C.RevealVote(vote_id=vote.id)]
    else:
        out.append(
            C.OpenVote(
                kind=kind[s.phase],  # type: ignore[arg-type]
                hidden=rng.random() < 0.7,
                anonymous=rng.random() < 0.5,
            )
        )
    if s.phase == "learn":
        out.append(C.AddCard(lane=rng.choice(LANES), text="a card"))
    elif s.phase == "needs":
        out.append(C.AddNeed(text="a need"))
        out += [C.SettleNeed(need_id=n.id, cls="must") for n in s.live_needs()[:2]]
    elif s.phase == "options":
        out.append(C.AddOption(kind="internal", title="a way"))
    elif s.options:
        out.append(C.Propose(option_id=rng.choice(list(s.options)), statement="we do it"))
    return out


class RelayModel(RuleBasedStateMachine):
    """Members of one session on a live relay, driven step by step."""

    live: Live  # set by the test below

    def __init__(self) -> None:
        super().__init__()
        self.peers: list[Peer] = []
        self.roles: dict[int, str] = {}
        self.ops: dict[tuple[str, str], Ack | Error] = {}
        self.restarts = 0
        fac = Peer(self.live)
        welcome = self.live.run(fac.hello(Create(question="Model?", name="Fac")))
        assert not isinstance(welcome, Error) and welcome.secrets is not None
        self.secrets = welcome.secrets
        self.session_id = welcome.session_id
        self.peers.append(fac)
        self.roles[id(fac)] = "facilitator"

    # ---- rules ----------------------------------------------------------------------

    @precondition(lambda self: len(self.peers) < 7)
    @rule(role=st.sampled_from(ROLES))
    def join(self, role: str) -> None:
        """Someone joins with the code for their role."""
        code = {
            "participant": self.secrets.participant_code,
            "partner": self.secrets.partner_code,
            "observer": self.secrets.observer_code,
        }[role]
        peer = Peer(self.live)
        answer = self.live.run(peer.hello(Hello(code=code, name=role.title())))
        assert not isinstance(answer, Error), answer
        self.peers.append(peer)
        self.roles[id(peer)] = role

    @rule(data=st.data())
    def command(self, data: st.DataObject) -> None:
        """A connected member sends a command (often refused); the ack or error comes back."""
        peer = data.draw(st.sampled_from(self.peers))
        if not peer.open:
            return
        rng = random.Random(data.draw(st.integers(0, 2**32)))
        server = self.live.session(self.session_id)
        self._send(peer, rng.choice(commands_for(server, rng)))

    @rule(data=st.data())
    def facilitate(self, data: st.DataObject) -> None:
        """The facilitator moves things along: phases, items, votes, reveals."""
        fac = self.peers[0]
        if not fac.open:
            return
        rng = random.Random(data.draw(st.integers(0, 2**32)))
        self._send(fac, rng.choice(progress_for(self.live.session(self.session_id), rng)))

    @rule(data=st.data())
    def contribute(self, data: st.DataObject) -> None:
        """A participant adds something for the phase, or casts a ballot in the open vote."""
        rng = random.Random(data.draw(st.integers(0, 2**32)))
        voters = [p for p in self.peers if p.open and self.roles[id(p)] == "participant"]
        if not voters:
            return
        server = self.live.session(self.session_id)
        options = [
            c
            for c in progress_for(server, rng)
            if isinstance(c, C.AddCard | C.AddNeed | C.AddOption | C.Cast)
        ]
        if options:
            self._send(rng.choice(voters), rng.choice(options))

    def _send(self, peer: Peer, cmd: Any) -> None:
        op = new_op()
        answer = self.live.run(peer.command(cmd, op=op))
        self.ops[(peer.member_id, op)] = answer
        TALLY["acked" if isinstance(answer, Ack) else f"refused {answer.code}"] += 1
        self._settle()

    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        """A member resends an acknowledged op: the relay answers duplicate, nothing changes."""
        acked = [(m, op) for (m, op), a in self.ops.items() if isinstance(a, Ack)]
        if not acked:
            return
        member_id, op = data.draw(st.sampled_from(acked))
        peer = next((p for p in self.peers if p.member_id == member_id and p.open), None)
        if peer is None:
            return
        before = self.live.session(self.session_id).seq
        answer = self.live.run(peer.command(C.SetReady(ready=True), op=op))
        assert isinstance(answer, Ack) and answer.duplicate, answer
        assert answer.seq == self.ops[(member_id, op)].seq  # type: ignore[union-attr]
        assert self.live.session(self.session_id).seq == before
        TALLY["retried"] += 1

    @rule(data=st.data(), clean=st.booleans())
    def disconnect(self, data: st.DataObject, clean: bool) -> None:
        """A member leaves, cleanly or by losing the network."""
        peer = data.draw(st.sampled_from(self.peers))
        if clean:
            self.live.run(peer.close())
        else:
            peer.drop()
            self.live.run(peer.wait(lambda: not peer.open, 2))

    @rule(data=st.data(), stale=st.booleans())
    def resume(self, data: st.DataObject, stale: bool) -> None:
        """A member who left comes back with its token and last seq (or a stale epoch)."""
        gone = [p for p in self.peers if not p.open]
        if not gone:
            return
        peer = data.draw(st.sampled_from(gone))
        last = peer.session.seq if peer.session is not None else 0
        epoch = "stale-epoch" if stale else peer.epoch
        answer = self.live.run(peer.hello(Hello(token=peer.token, last_seq=last, epoch=epoch)))
        assert not isinstance(answer, Error), answer
        assert answer.mode == ("snapshot" if stale else "replay"), answer.mode
        assert self.live.run(peer.synced())
        assert peer.welcome is not None
        TALLY[f"resumed by {peer.welcome.mode}"] += 1

    @precondition(lambda self: self.restarts < 1)
    @rule()
    def restart(self) -> None:
        """The relay restarts: everyone is closed with 1001; the session survives on disk."""
        self.restarts += 1
        before = self.live.session(self.session_id)
        self.live.restart()
        for peer in self.peers:
            self.live.run(peer.wait(lambda p=peer: not p.open, 3))  # type: ignore[misc]
        assert self.live.session(self.session_id) == before
        TALLY["restarted"] += 1

    def _settle(self) -> None:
        """Wait until every connected member has every event."""
        seq = self.live.session(self.session_id).seq
        for peer in self.peers:
            if peer.open and peer.welcome is not None:
                done = lambda p=peer: p.session is not None and p.session.seq >= seq  # noqa: E731
                assert self.live.run(peer.wait(done)), "a member missed an event"

    # ---- invariants -----------------------------------------------------------------

    @invariant()
    def members_see_the_relay(self) -> None:
        """Every connected member holds exactly the relay's state as they may see it."""
        self._settle()
        server = self.live.session(self.session_id)
        for peer in self.peers:
            assert not peer.problems, peer.problems
            if peer.open and peer.welcome is not None:
                assert peer.view_matches(server), f"{peer.member_id} drifted from the relay"

    @invariant()
    def log_is_whole_and_ops_land_once(self) -> None:
        """Stored seqs run 1..n; each op is applied at most once, acked ones at their seq."""
        stored = self.live.run(self.live.relay.store.events_after(self.session_id, 0))
        events = [decode_event(e.blob, self.live.relay.sealer) for e in stored]
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        seen: dict[tuple[str, str], int] = {}
        for e in events:
            if e.op:
                assert (e.by, e.op) not in seen, f"op {e.op} applied twice"
                seen[(e.by, e.op)] = e.seq
        for key, answer in self.ops.items():
            if isinstance(answer, Ack):
                assert seen.get(key) == answer.seq, f"acked op {key} not at seq {answer.seq}"
            else:
                assert key not in seen, f"refused op {key} was applied"

    @invariant()
    def tallies_equal_ballots_and_stay_private(self) -> None:
        """Voters equal ballots on the relay; no frame leaked a secret ballot."""
        server = self.live.session(self.session_id)
        for vote in server.votes.values():
            complete = [m for m, b in vote.ballots.items() if answered(server, vote, b).complete]
            assert sorted(vote.voters) == sorted(complete)
        for peer in self.peers:
            if peer.member_id:
                check_privacy(peer.member_id, peer.raw)

    def teardown(self) -> None:
        """Close every member; the scenario's leak check runs in the test."""
        for peer in self.peers:
            self.live.run(peer.close())


def test_relay_model(live: Live) -> None:
    """Random steps by every role, with drops, resumes and a restart, keep every invariant."""
    start = live.quiet()
    RelayModel.live = live
    run_state_machine_as_test(
        RelayModel,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    end = live.settle(start)
    assert end == start, f"leak after the model runs: {start} -> {end}"
    print(f"\nmodel steps: {dict(TALLY)}")
    assert TALLY["acked"] > 0, f"no command was ever accepted: {TALLY}"

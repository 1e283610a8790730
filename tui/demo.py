"""Simulated participants for ``accord demo``: real clients that act at a human pace.

Each one joins through the relay with a join code and uses a real
``Connection``, so the demo exercises the same protocol, rules and relay as a
real session. They follow the facilitator: whatever phase the board is in and
whatever vote is open, they add their input and vote, a step at a time.
No Textual here.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field

from accord.client import CommandFailed, Connection, ConnectionFailed
from accord.protocol.commands import (
    AddCard,
    AddNeed,
    AddNote,
    AddOption,
    Cast,
    Command,
    SetReady,
)
from accord.protocol.messages import Hello
from accord.protocol.model import (
    BASELINE_ID,
    CLASS_MARK,
    CONSENT_AGREE,
    CONSENT_OBJECT,
    CONSENT_STAND_ASIDE,
    PROPOSAL_KEY,
    Lane,
    NeedClass,
    OptionKind,
    Session,
    Vote,
)
from accord.protocol.permissions import allowed
from accord.protocol.results import cell_key, criteria

DEMO_QUESTION = "Should we partner with a payments provider, build it ourselves, or outsource?"


@dataclass(slots=True)
class Persona:
    """A simulated stakeholder: who they are and what they bring to each phase."""

    name: str
    department: str
    cards: list[tuple[Lane, str]] = field(default_factory=list)
    needs: list[tuple[str, str, str]] = field(default_factory=list)
    options: list[tuple[OptionKind, str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (option title word, text)
    #: Words in a need's text -> how this persona classifies it.
    leanings: dict[str, NeedClass] = field(default_factory=dict)
    #: Words in an option's title -> how much this persona likes it (0-5).
    likes: dict[str, int] = field(default_factory=dict)
    partner: bool = False
    objection: str = ""


PERSONAS: list[Persona] = [
    Persona(
        "Priya",
        "Finance",
        cards=[
            ("value", "Lower cost per transaction"),
            ("no_change", "Fees keep eating our margin"),
        ],
        needs=[
            (
                "Total cost stays under budget",
                "The board capped spend",
                "Year-one cost within plan",
            ),
        ],
        options=[("outsourcing", "Outsource to a payment agency", "They run it end to end")],
        leanings={"cost": "must", "budget": "must", "launch": "optional", "checkout": "optional"},
        likes={"partner": 4, "build": 2, "outsource": 3, "no change": 1},
    ),
    Persona(
        "Marco",
        "Operations",
        cards=[
            ("no_change", "Manual refunds take two days"),
            ("stakeholders", "Support wants fewer payment tickets"),
        ],
        needs=[
            ("Refunds handled in one day", "Customers complain", "90% refunded within 24h"),
        ],
        options=[("internal", "Build payments in-house", "Our own team, our own stack")],
        leanings={"refund": "must", "cost": "optional", "launch": "optional", "data": "must"},
        likes={"partner": 4, "build": 3, "outsource": 2, "no change": 1},
        objection="Refund handling by the agency is untested with our volumes",
    ),
    Persona(
        "Lena",
        "Sales",
        cards=[
            ("value", "Sell in three new countries"),
            ("stakeholders", "Customers ask for local payment methods"),
        ],
        needs=[
            ("Launch in new markets this year", "Sales targets", "Live in 3 countries by Q4"),
            ("Checkout works on mobile", "Most buyers are on phones", "Conversion up 10%"),
        ],
        options=[("partnership", "Partner with PayCo", "Their platform and licences, our brand")],
        leanings={"launch": "must", "checkout": "must", "cost": "optional", "refund": "optional"},
        likes={"partner": 5, "build": 1, "outsource": 3, "no change": 0},
    ),
    Persona(
        "Jon",
        "PayCo",
        notes=[
            ("partner", "We already hold licences in all three target countries."),
            ("partner", "Migration typically takes six to eight weeks."),
            ("build", "Certification alone usually takes a team six months."),
        ],
        partner=True,
    ),
]


def _leaning(persona: Persona, text: str) -> NeedClass:
    lowered = text.lower()
    for word, cls in persona.leanings.items():
        if word in lowered:
            return cls
    return random.choice(["optional", "optional", "must", "not_a_need"])


def _like(persona: Persona, title: str) -> int:
    lowered = title.lower()
    for word, score in persona.likes.items():
        if word in lowered:
            return score
    return 3


class SimulatedParticipant:
    """One persona connected to the relay, taking one step every few seconds."""

    def __init__(self, url: str, code: str, persona: Persona, pace: float = 2.5) -> None:
        self.persona = persona
        self.pace = pace
        self.conn = Connection(
            url, Hello(code=code, name=persona.name, department=persona.department)
        )
        self._cards = list(persona.cards)
        self._needs = list(persona.needs)
        self._options = list(persona.options)
        self._notes = list(persona.notes)
        self._objected = False
        self._rng = random.Random(persona.name)

    async def run(self, stop: asyncio.Event) -> None:
        """Join, then act until ``stop`` is set or the session closes."""
        try:
            await self.conn.start(timeout=15)
        except (ConnectionFailed, TimeoutError):
            return
        try:
            while not stop.is_set():
                session = self.conn.session
                if session is None or session.closed:
                    break
                command = self.next_step(session)
                if command is not None:
                    with contextlib.suppress(CommandFailed):
                        await self.conn.send(command)
                delay = self.pace * self._rng.uniform(0.6, 1.6)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
        finally:
            await self.conn.close()

    # ---- deciding what to do next ----------------------------------------------------

    def next_step(self, session: Session) -> Command | None:
        """The next thing this persona would do on the board, if anything."""
        me = session.members.get(self.conn.member_id)
        if me is None:
            return None
        phase = session.phase
        if self.persona.partner:
            return self._partner_step(session)
        vote = session.open_vote()
        if vote is not None and vote.phase == phase:
            step = self._vote_step(session, vote)
            if step is not None:
                return step
        if phase == "learn" and self._cards:
            lane, text = self._cards.pop(0)
            return AddCard(lane=lane, text=text)
        if phase == "needs" and self._needs:
            text, why, success = self._needs.pop(0)
            return AddNeed(text=text, why=why, success=success)
        if phase == "options" and self._options:
            kind, title, description = self._options.pop(0)
            return AddOption(kind=kind, title=title, description=description)
        if not me.ready and (vote is None or me.id in vote.voters):
            return SetReady(ready=True)
        return None

    def _partner_step(self, session: Session) -> Command | None:
        if session.phase != "options" or not self._notes:
            return None
        word, text = self._notes[0]
        for option in session.options.values():
            if word in option.title.lower():
                self._notes.pop(0)
                return AddNote(option_id=option.id, text=text)
        if all(w not in o.title.lower() for o in session.options.values() for w, _ in self._notes):
            self._notes.clear()
        return None

    def _vote_step(self, session: Session, vote: Vote) -> Command | None:
        me = self.conn.member_id
        mine = vote.ballots.get(me)
        marks = mine.marks if mine else {}
        if vote.kind == "dots":
            cards = [c for c in session.live_cards() if vote.lane is None or c.lane == vote.lane]
            # One more dot on a card: the rules say which are allowed (budget, per-card cap).
            casts = [
                (card, Cast(vote_id=vote.id, marks={card.id: marks.get(card.id, 0) + 1}))
                for card in cards
            ]
            open_casts = [(card, cast) for card, cast in casts if allowed(session, me, cast)]
            if not open_casts:
                return None
            own = [pair for pair in open_casts if pair[0].author == me]
            _, cast = self._rng.choice(own if own and self._rng.random() < 0.4 else open_casts)
            return cast
        if vote.kind == "classify":
            for need in session.live_needs():
                if need.id not in marks:
                    cls = _leaning(self.persona, need.text)
                    return Cast(vote_id=vote.id, marks={need.id: CLASS_MARK[cls]})
            return None
        if vote.kind == "score":
            for option in session.options.values():
                for crit in criteria(session):
                    key = cell_key(option.id, crit.need_id)
                    if key in marks:
                        continue
                    like = _like(self.persona, option.title)
                    if crit.gate:
                        value = 1 if like >= 2 or option.id == BASELINE_ID else 0
                        if option.id == BASELINE_ID:
                            value = 0 if self._rng.random() < 0.7 else 1
                    else:
                        value = max(0, min(5, like + self._rng.choice((-1, 0, 0, 1))))
                    return Cast(vote_id=vote.id, marks={key: value})
            return None
        if PROPOSAL_KEY in marks:
            return None
        proposed = session.options.get(vote.option_id or "")
        like = _like(self.persona, proposed.title if proposed else "")
        if vote.method == "fist":
            return Cast(vote_id=vote.id, marks={PROPOSAL_KEY: max(1, min(5, like))})
        if self.persona.objection and not self._objected and like < 5:
            self._objected = True
            return Cast(
                vote_id=vote.id,
                marks={PROPOSAL_KEY: CONSENT_OBJECT},
                reason=self.persona.objection,
            )
        value = CONSENT_AGREE if like >= 3 else CONSENT_STAND_ASIDE
        return Cast(vote_id=vote.id, marks={PROPOSAL_KEY: value})


class Demo:
    """The simulated group: start them, and stop them when the demo ends."""

    def __init__(
        self,
        url: str,
        participant_code: str,
        partner_code: str,
        *,
        pace: float = 2.5,
        count: int = 4,
        personas: list[Persona] | None = None,
    ) -> None:
        chosen = (personas or PERSONAS)[:count]
        self.bots = [
            SimulatedParticipant(url, partner_code if p.partner else participant_code, p, pace)
            for p in chosen
        ]
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start every simulated participant in its own task."""
        for bot in self.bots:
            self._tasks.append(asyncio.get_running_loop().create_task(bot.run(self._stop)))

    async def stop(self) -> None:
        """Ask them to leave and wait until they have."""
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)

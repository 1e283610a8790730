"""Helpers for the protocol tests: limit-aware strategies and a board that runs commands.

``strategy_for`` walks a wire type the way ``schema`` does and honours every
``Text``/``Range``/``Items`` limit, which ``hypothesis.strategies.from_type``
would not. ``Board`` plays the relay: it turns commands into events with the
rules, passes each event through the codec and applies it with the reducer.

Over 400 lines: the schema-driven strategies and the relay-like ``Board``
are used together by every protocol property test.
"""

from __future__ import annotations

import dataclasses
import itertools
import types
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from accord.protocol import codec, reducer, rules
from accord.protocol import commands as C
from accord.protocol import limits as L
from accord.protocol.errors import Refusal
from accord.protocol.events import Event, EventBody
from accord.protocol.model import (
    LANES,
    PHASES,
    PROPOSAL_KEY,
    NeedClass,
    OptionKind,
    PartnerView,
    Phase,
    Role,
    Session,
    Vote,
    VoteKind,
)
from accord.protocol.results import cell_key, criteria
from accord.protocol.schema import Items, Range, Text, decode_as
from hypothesis import strategies as st

#: Longest list or map the generic strategies build (the real caps are far larger).
SMALL = 3
#: The start of every test session's clock (2023-11-14), in epoch seconds.
T0 = 1_700_000_000.0
VOTE_KINDS: tuple[VoteKind, ...] = ("dots", "classify", "score", "consensus")
T = TypeVar("T")
#: Who the relay names as the author of ``session_created``.
RELAY = "relay"

# ---- limit-aware strategies for any wire type -----------------------------------

_CACHE: dict[Any, st.SearchStrategy[Any]] = {}


def strategy_for(tp: Any) -> st.SearchStrategy[Any]:
    """A strategy for values of the wire type ``tp`` that respect its limits."""
    found = _CACHE.get(tp)
    if found is None:
        found = _build(tp, ())
        _CACHE[tp] = found
    return found


#: Characters the text policy refuses everywhere (``accord.protocol.text``), and LF.
REFUSED_CHARS = (
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
)
_ONE_LINE = st.characters(exclude_categories=("Cc", "Cs"), exclude_characters=REFUSED_CHARS)
_MULTI_LINE = st.one_of(_ONE_LINE, st.just("\n"))


def _text(lo: int, hi: int, lines: bool = False) -> st.SearchStrategy[str]:
    chars = _MULTI_LINE if lines else _ONE_LINE
    short = st.text(chars, min_size=lo, max_size=min(hi, max(lo, 12)))
    if hi <= 12:
        return short
    # Now and then a string of exactly the longest length allowed.
    return st.one_of(short, short, short, st.text(chars, min_size=hi, max_size=hi))


def _build(tp: Any, limits: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    origin = get_origin(tp)
    if origin is Annotated:
        base, *extra = get_args(tp)
        return _build(base, limits + tuple(extra))
    if tp is str:
        text = next(lim for lim in limits if isinstance(lim, Text))
        return _text(text.min, text.max, text.lines)
    if tp is bool:
        return st.booleans()
    if tp is int:
        rng = next((lim for lim in limits if isinstance(lim, Range)), None)
        if rng is None:  # msgpack carries ints from -2**63 to 2**64 - 1
            return st.integers(-(2**63), 2**64 - 1)
        return st.integers(int(rng.lo), int(rng.hi))
    if tp is float:
        rng = next(lim for lim in limits if isinstance(lim, Range))
        return st.floats(rng.lo, rng.hi, allow_nan=False, allow_infinity=False)
    if tp is type(None) or tp is None:
        return st.none()
    if origin is Literal:
        return st.sampled_from(get_args(tp))
    if origin is list:
        (item,) = get_args(tp)
        cap = next(lim.max for lim in limits if isinstance(lim, Items))
        return st.lists(strategy_for(item), max_size=min(cap, SMALL))
    if origin is dict:
        _, val = get_args(tp)
        cap = next(lim.max for lim in limits if isinstance(lim, Items))
        key = next((lim for lim in limits if isinstance(lim, Text)), Text(64))
        return st.dictionaries(_text(key.min, key.max), strategy_for(val), max_size=min(cap, SMALL))
    if origin is Union or origin is types.UnionType:
        return st.one_of([strategy_for(arg) for arg in get_args(tp)])
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp, include_extras=True)
        fields = {f.name: strategy_for(hints[f.name]) for f in dataclasses.fields(tp) if f.init}
        return st.builds(tp, **fields)
    raise TypeError(f"no strategy for {tp!r}")


# ---- codec helpers ------------------------------------------------------------------


def roundtrip(event: Event) -> Event:
    """``event`` after a trip through the wire, so it shares no object with anything."""
    decoded = codec.decode_server(codec.encode(event))
    assert isinstance(decoded, Event)
    return decoded


def from_plain(data: bytes) -> Session:
    """A session from bytes made by ``codec.encode_plain`` (a stored snapshot)."""
    return decode_as(Session, codec.unpack(data, L.MAX_SERVER_FRAME))


def snapshot(session: Session) -> Session:
    """A copy of ``session`` made the way a stored snapshot is: encode, unpack, decode."""
    return from_plain(codec.encode_plain(session))


def plain(session: Session, *, ops: bool = True) -> bytes:
    """The canonical bytes of a session (optionally without its op memory) for comparing."""
    if not ops:
        session = dataclasses.replace(session, ops={})
    return codec.encode_plain(session)


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """The path of the first place two plain values differ (bytes are unpacked first)."""
    if isinstance(a, bytes) and isinstance(b, bytes):
        a, b = codec.unpack(a, L.MAX_SERVER_FRAME), codec.unpack(b, L.MAX_SERVER_FRAME)
    if type(a) is not type(b):
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} != {list(b)}"
        for key in a:
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


# ---- a board that plays the relay ---------------------------------------------------


@dataclasses.dataclass
class Roster:
    """Member ids of the standard cast of a board, by the part they play."""

    facilitator: str
    participants: list[str]
    observer: str
    partner: str

    @property
    def everyone(self) -> list[str]:
        """All members, facilitator first."""
        return [self.facilitator, *self.participants, self.observer, self.partner]


class Board:
    """A session driven like the relay drives it: decide, wrap, round-trip, apply, log."""

    def __init__(self, question: str = "Should we partner, change or outsource?") -> None:
        self.now = T0
        body = rules.create_session(question, self.now)
        created = roundtrip(Event(seq=1, at=self.now, by=RELAY, body=body))
        self.log: list[Event] = [created]
        self.session = reducer.replay("s1", [created])
        self._ops = itertools.count(1)
        #: (member, op, seq) of every command that produced events, in order.
        self.applied: list[tuple[str, str, int]] = []
        #: (member, op) of commands the rules refused.
        self.refused: list[tuple[str, str]] = []
        self.listeners: list[Callable[[Event], None]] = []

    def join(self, name: str, role: Role, department: str = "") -> str:
        """Add a member the way a good join code does; returns the new member id."""
        self.now += 1.0
        body = rules.join(self.session, name, role, department, self.now)
        self.append(body, by=body.member.id)
        return body.member.id

    def append(self, body: EventBody, by: str, op: str = "") -> Event:
        """Sequence ``body``, send it through the codec, apply it and log it."""
        event = roundtrip(Event(seq=self.session.seq + 1, at=self.now, by=by, body=body, op=op))
        reducer.apply_event(self.session, event)
        self.log.append(event)
        for listener in self.listeners:
            listener(event)
        return event

    def do(self, member_id: str, command: C.Command, op: str | None = None) -> list[Event]:
        """Run ``command`` for ``member_id`` as the relay would.

        Raises:
            Refusal: when the rules refuse it.
        """
        op = op or f"op{next(self._ops)}"
        if rules.retried_seq(self.session, member_id, op) is not None:
            return []
        self.now += 1.0
        try:
            bodies = rules.decide(self.session, member_id, command, self.now)
        except Refusal:
            self.refused.append((member_id, op))
            raise
        events = [self.append(body, member_id, op) for body in bodies]
        self.applied.append((member_id, op, events[-1].seq))
        return events

    def try_do(self, member_id: str, command: C.Command) -> list[Event]:
        """Like ``do``, but a refusal just produces no events."""
        try:
            return self.do(member_id, command)
        except Refusal:
            return []

    def new_id(self, events: list[Event]) -> str:
        """The id of the thing the single event in ``events`` added."""
        (event,) = events
        for name in ("card", "need", "option", "note", "vote"):
            thing = getattr(event.body, name, None)
            if thing is not None:
                return str(thing.id)
        raise AssertionError(f"{event.body!r} adds nothing with an id")


def standard_board(board: Board | None = None) -> tuple[Board, Roster]:
    """A board (fresh by default) with a facilitator, 3 participants, an observer, a partner."""
    board = board or Board()
    cast = Roster(
        facilitator=board.join("Fran", "facilitator", "Operations"),
        participants=[
            board.join("Ada", "participant", "Engineering"),
            board.join("Bo", "participant", "Finance"),
            board.join("Cy", "participant", "Engineering"),
        ],
        observer=board.join("Olu", "observer", "Legal"),
        partner=board.join("Pat", "partner", "Partner Co"),
    )
    return board, cast


def seeded_board(phase: Phase | None, board: Board | None = None) -> tuple[Board, Roster]:
    """A standard board with cards, settled needs, options, a note and a proposal, in ``phase``.

    ``None`` gives the bare standard board. Everything is done through commands, so
    the log replays to the same session.
    """
    board, cast = standard_board(board)
    if phase is None:
        return board, cast
    fran, (ada, bo, cy) = cast.facilitator, cast.participants
    board.do(ada, C.AddCard(lane="value", text="ship twice as often"))
    board.do(bo, C.AddCard(lane="no_change", text="costs keep rising"))
    board.do(cy, C.AddCard(lane="stakeholders", text="support wants fewer tools"))
    board.do(fran, C.SetPhase(phase="needs"))
    must = board.new_id(board.do(ada, C.AddNeed(text="keeps our data in the EU", why="law")))
    nice = board.new_id(board.do(bo, C.AddNeed(text="costs less per year", success="-10%")))
    drop = board.new_id(board.do(cy, C.AddNeed(text="uses a new language")))
    board.do(fran, C.SettleNeed(need_id=must, cls="must"))
    board.do(fran, C.SettleNeed(need_id=nice, cls="optional"))
    board.do(fran, C.SettleNeed(need_id=drop, cls="not_a_need"))
    board.do(fran, C.SetPhase(phase="options"))
    partner = board.new_id(
        board.do(ada, C.AddOption(kind="partnership", title="Partner with Acme"))
    )
    board.do(bo, C.AddOption(kind="outsourcing", title="Outsource to Beta"))
    board.do(cast.partner, C.AddNote(option_id=partner, text="we host in Frankfurt"))
    board.do(fran, C.SetPhase(phase="decide"))
    board.do(fran, C.Propose(option_id=partner, statement="We partner with Acme for two years."))
    if phase != "decide":
        board.do(fran, C.SetPhase(phase=phase))
    return board, cast


# ---- commands that fit the current state ----------------------------------------------
#
# Drawing goes through a few cached primitive strategies (``pick``) instead of building
# strategies per step: it is many times faster and shrinks well.

WORDS = ("faster releases", "lower cost", "keep the team", "no lock-in", "audit trail", "x")
VOTE_OF_PHASE: dict[Phase, VoteKind] = {
    "learn": "dots",
    "needs": "classify",
    "options": "score",
    "decide": "consensus",
}
FACILITATOR_ONLY = frozenset(
    {
        "set_phase",
        "start_timer",
        "stop_timer",
        "edit_question",
        "delete_card",
        "merge_cards",
        "delete_need",
        "merge_needs",
        "settle_need",
        "set_weight",
        "delete_option",
        "open_vote",
        "close_vote",
        "reveal_vote",
        "propose",
        "record_decision",
        "close_session",
        "set_partner_view",
    }
)
_BASE = {
    "set_phase": 12,
    "set_ready": 4,
    "start_timer": 2,
    "stop_timer": 2,
    "edit_question": 1,
    "add_card": 6,
    "edit_card": 2,
    "delete_card": 2,
    "merge_cards": 2,
    "add_need": 6,
    "edit_need": 2,
    "delete_need": 2,
    "merge_needs": 2,
    "settle_need": 6,
    "set_weight": 3,
    "add_option": 6,
    "edit_option": 2,
    "delete_option": 2,
    "add_note": 6,
    "open_vote": 16,
    "cast": 2,
    "close_vote": 4,
    "reveal_vote": 8,
    "propose": 4,
    "record_decision": 3,
    "close_session": 1,
    "set_partner_view": 3,
}
_BOOST: dict[Phase, dict[str, int]] = {
    "learn": {"add_card": 20},
    "needs": {"add_need": 16, "settle_need": 24, "set_weight": 6},
    "options": {"add_option": 10, "add_note": 10},
    "decide": {"propose": 16, "record_decision": 6},
}


def _pool(phase: Phase, voting: bool) -> st.SearchStrategy[str]:
    weights = dict(_BASE)
    for name, extra in _BOOST[phase].items():
        weights[name] += extra
    if voting:
        weights["cast"] += 60
    # Heaviest first: hypothesis leans towards index 0, so that should be a useful move.
    ranked = sorted(weights.items(), key=lambda item: -item[1])
    return st.sampled_from([name for name, w in ranked for _ in range(w)])


_POOLS = {(phase, voting): _pool(phase, voting) for phase in PHASES for voting in (False, True)}


def kind_of(cls: type) -> str:
    """The wire name (``KIND``) of a command or event class."""
    return str(vars(cls)["KIND"])


def pick(data: st.DataObject, items: Sequence[T]) -> T:
    """One of ``items``, drawn so that it shrinks towards the first."""
    return items[data.draw(st.integers(0, len(items) - 1))]


def chance(data: st.DataObject, percent: int) -> bool:
    """True about ``percent`` times in a hundred."""
    return data.draw(st.integers(0, 99)) < percent


def _some(data: st.DataObject, found: list[str], missing: str) -> str:
    # Mostly real ids; now and then one that does not exist.
    return pick(data, found) if found and chance(data, 90) else missing


def draw_ballot(data: st.DataObject, session: Session, vote: Vote) -> C.Cast:
    """A mostly valid ballot for ``vote``, with the occasional bad mark."""
    marks: dict[str, int] = {}
    reason = ""
    if vote.kind == "dots":
        items = [c.id for c in session.live_cards() if vote.lane in (None, c.lane)] or ["c404"]
        cap = vote.max_per_item or vote.dots
        for _ in range(data.draw(st.integers(1, 3))):
            marks[pick(data, items)] = data.draw(st.integers(0, cap))
    elif vote.kind == "classify":
        items = [n.id for n in session.live_needs()] or ["n404"]
        for _ in range(data.draw(st.integers(1, 3))):
            marks[pick(data, items)] = pick(data, (2, 1, 0, 3))
    elif vote.kind == "score":
        tops = {
            cell_key(o, c.need_id): 1 if c.gate else 5
            for o in session.options
            for c in criteria(session)
        } or {"o404:n404": 5}
        keys = sorted(tops)
        for _ in range(data.draw(st.integers(1, 4))):
            key = pick(data, keys)
            marks[key] = data.draw(st.integers(0, tops[key] + (1 if chance(data, 5) else 0)))
    else:
        marks[PROPOSAL_KEY] = data.draw(st.integers(0, 5 if vote.method == "fist" else 2))
        reason = pick(data, ("", "", "it breaks the budget", "we lose the team"))
    return C.Cast(vote_id=vote.id, marks=marks, reason=reason)


def draw_command(data: st.DataObject, session: Session) -> C.Command:
    """A command of any kind, aimed mostly at things that exist in ``session``."""
    phase = session.phase
    open_votes = [v for v in session.votes.values() if v.accepting]
    voting = any(v.phase == phase for v in open_votes)
    name = data.draw(_POOLS[phase, voting])
    cards = [c.id for c in session.live_cards()]
    needs = [n.id for n in session.live_needs()]
    options = list(session.options)
    votes = list(session.votes)
    word = pick(data, WORDS)
    command: C.Command
    match name:
        case "set_phase":
            later = PHASES[(PHASES.index(phase) + 1) % len(PHASES)]
            command = C.SetPhase(phase=later if chance(data, 75) else pick(data, PHASES))
        case "set_ready":
            command = C.SetReady(ready=chance(data, 70))
        case "start_timer":
            command = C.StartTimer(
                seconds=data.draw(st.integers(1, 900)), label=pick(data, ("", "go"))
            )
        case "stop_timer":
            command = C.StopTimer()
        case "edit_question":
            command = C.EditQuestion(question=word)
        case "add_card":
            command = C.AddCard(lane=pick(data, LANES), text=word)
        case "edit_card":
            command = C.EditCard(card_id=_some(data, cards, "c404"), text=word)
        case "delete_card":
            command = C.DeleteCard(card_id=_some(data, cards, "c404"))
        case "merge_cards":
            command = C.MergeCards(
                source_id=_some(data, cards, "c404"), target_id=_some(data, cards, "c404")
            )
        case "add_need":
            command = C.AddNeed(text=word, why=pick(data, WORDS), success=pick(data, ("", "x")))
        case "edit_need":
            command = C.EditNeed(need_id=_some(data, needs, "n404"), text=word, why=word)
        case "delete_need":
            command = C.DeleteNeed(need_id=_some(data, needs, "n404"))
        case "merge_needs":
            command = C.MergeNeeds(
                source_id=_some(data, needs, "n404"), target_id=_some(data, needs, "n404")
            )
        case "settle_need":
            unsettled = [n.id for n in session.live_needs() if n.settled is None]
            cls: NeedClass | None = pick(data, ("must", "optional", "optional", "not_a_need", None))
            command = C.SettleNeed(need_id=_some(data, unsettled or needs, "n404"), cls=cls)
        case "set_weight":
            weight = data.draw(st.integers(1, L.MAX_WEIGHT))
            command = C.SetWeight(need_id=_some(data, needs, "n404"), weight=weight)
        case "add_option":
            kind: OptionKind = pick(
                data, ("partnership", "internal", "outsourcing", "other", "baseline")
            )
            command = C.AddOption(kind=kind, title=word, description=pick(data, ("", "x")))
        case "edit_option":
            command = C.EditOption(option_id=_some(data, options, "o404"), title=word)
        case "delete_option":
            command = C.DeleteOption(option_id=_some(data, options, "o404"))
        case "add_note":
            command = C.AddNote(option_id=_some(data, options, "o404"), text=word)
        case "open_vote":
            vote_kind = VOTE_OF_PHASE[phase] if chance(data, 85) else pick(data, VOTE_KINDS)
            command = C.OpenVote(
                kind=vote_kind,
                hidden=chance(data, 60),
                anonymous=chance(data, 40),
                dots=data.draw(st.integers(1, 6)),
                max_per_item=data.draw(st.integers(0, 3)),
                lane=pick(data, (None, None, *LANES)),
                method=pick(data, ("fist", "consent")),
            )
        case "cast":
            if open_votes and chance(data, 95):
                here = [v for v in open_votes if v.phase == phase] or open_votes
                command = draw_ballot(data, session, pick(data, here))
            else:
                command = C.Cast(vote_id=_some(data, votes, "v404"), marks={"c404": 1})
        case "close_vote":
            command = C.CloseVote(vote_id=_some(data, votes, "v404"))
        case "reveal_vote":
            unrevealed = [v.id for v in session.votes.values() if not v.revealed]
            command = C.RevealVote(vote_id=_some(data, unrevealed or votes, "v404"))
        case "propose":
            command = C.Propose(option_id=_some(data, options, "o404"), statement=word)
        case "record_decision":
            command = C.RecordDecision(
                option_id=_some(data, options, "o404"),
                statement=word,
                rationale=pick(data, WORDS),
                dissent=pick(data, ("", "Bo would rather wait")),
                review_date=pick(data, ("", "2027-03-31", "next year")),
                without_consensus=chance(data, 50),
            )
        case "set_partner_view":
            command = C.SetPartnerView(
                view=PartnerView(
                    all_needs=chance(data, 30),
                    shared_needs=[_some(data, needs, "n404")] if chance(data, 50) else [],
                    classes=chance(data, 50),
                    splits=chance(data, 50),
                    scores=chance(data, 50),
                    stances=chance(data, 50),
                )
            )
        case _:
            assert name == "close_session", name
            command = C.CloseSession()
    return command


def draw_step(data: st.DataObject, session: Session, cast: Roster) -> tuple[str, C.Command]:
    """Who acts next and what they ask for; board moves mostly come from the facilitator."""
    command = draw_command(data, session)
    if command.KIND in FACILITATOR_ONLY and chance(data, 85):
        return cast.facilitator, command
    if command.KIND == "cast" and chance(data, 85):
        return pick(data, [cast.facilitator, *cast.participants]), command
    return pick(data, cast.everyone), command

"""Derived results: splits, department lens, criteria, cells, ranking and consensus."""

from __future__ import annotations

import pytest
from accord.protocol import results as R
from accord.protocol.model import (
    BASELINE_ID,
    PROPOSAL_KEY,
    Ballot,
    Member,
    Need,
    Option,
    Session,
    Vote,
    new_session,
)
from accord.protocol.rounds import consensus_round


def session_with(*, needs: dict[str, str | None], departments: dict[str, str]) -> Session:
    """A session with members ``m<n>`` in departments and needs settled as given."""
    s = new_session("s1", "Which way?", 1.0)
    for member_id, dept in departments.items():
        s.members[member_id] = Member(
            id=member_id, name=member_id, role="participant", department=dept
        )
    for need_id, cls in needs.items():
        s.needs[need_id] = Need(id=need_id, text=f"need {need_id}", settled=cls)  # type: ignore[arg-type]
    return s


def vote(kind: str, ballots: dict[str, dict[str, int]], **extra: object) -> Vote:
    """A revealed vote holding these ballots."""
    v = Vote(id="v1", kind=kind, phase="needs", revealed=True, accepting=False, **extra)  # type: ignore[arg-type]
    v.ballots = {m: Ballot(marks=marks) for m, marks in ballots.items()}
    return v


def test_split_majority_and_spread() -> None:
    """A split's majority is its top class unless tied, and spread grows as votes split."""
    assert R.Split(must=3, optional=1).majority == "must"
    assert R.Split(must=3, optional=1).spread == pytest.approx(0.25)
    assert R.Split(must=2, optional=2).majority is None
    assert R.Split().majority is None and R.Split().spread == 0.0
    assert R.Split(must=1, optional=1, not_a_need=1).spread == pytest.approx(2 / 3)
    assert R.Split(not_a_need=4).total == 4


def test_need_split_counts_each_class() -> None:
    """need_split counts 2 as must, 1 as optional and 0 as not a need."""
    v = vote("classify", {"m1": {"n1": 2}, "m2": {"n1": 2}, "m3": {"n1": 0}, "m4": {"n2": 1}})
    assert R.need_split(v, "n1") == R.Split(must=2, optional=0, not_a_need=1)
    assert R.need_split(v, "n2") == R.Split(optional=1)


def test_department_lens_shows_disagreement() -> None:
    """The lens splits each need by department and flags departments that reach other majorities."""
    s = session_with(
        needs={"n1": None, "n2": None},
        departments={"m1": "Eng", "m2": "Eng", "m3": "Finance", "m4": ""},
    )
    v = vote(
        "classify",
        {
            "m1": {"n1": 2, "n2": 1},
            "m2": {"n1": 2, "n2": 1},
            "m3": {"n1": 0, "n2": 1},
            "m4": {"n1": 2},
        },
    )
    lens = {lens.need_id: lens for lens in R.department_lens(s, v)}
    n1 = lens["n1"]
    assert n1.overall == R.Split(must=3, not_a_need=1)
    assert n1.departments == {
        "Eng": R.Split(must=2),
        "Finance": R.Split(not_a_need=1),
        "(no department)": R.Split(must=1),
    }
    assert n1.departments_disagree
    assert n1.disagreement == pytest.approx(1 / 3)
    assert not lens["n2"].departments_disagree and lens["n2"].disagreement == 0.0


def test_department_lens_of_anonymous_votes_is_overall_only() -> None:
    """An anonymous vote's lens has no department split, so no one is singled out."""
    s = session_with(needs={"n1": None}, departments={"m1": "Eng", "m2": "Finance"})
    v = vote("classify", {"m1": {"n1": 2}, "m2": {"n1": 0}}, anonymous=True)
    (lens,) = R.department_lens(s, v)
    assert lens.departments == {} and lens.overall.total == 2


def test_criteria_from_needs() -> None:
    """A must-need becomes a gate, an optional need a weighted criterion; others drop out."""
    s = session_with(
        needs={"n1": "must", "n2": "optional", "n3": "not_a_need", "n4": None, "n5": "must"},
        departments={},
    )
    s.needs["n2"].weight = 7
    s.needs["n5"].merged_into = "n1"
    assert R.criteria(s) == [
        R.Criterion("n1", "need n1", gate=True, weight=0),
        R.Criterion("n2", "need n2", gate=False, weight=7),
    ]
    assert [n.id for n in R.unsettled_needs(s)] == ["n4"]


def _scored() -> tuple[Session, Vote]:
    s = session_with(needs={"gate": "must", "a": "optional", "b": "optional"}, departments={})
    s.needs["a"].weight = 3
    s.needs["b"].weight = 1
    s.options["o1"] = Option(id="o1", kind="partnership", title="Partner")
    s.options["o2"] = Option(id="o2", kind="outsourcing", title="Outsource")
    v = vote(
        "score",
        {
            "m1": {
                "o1:gate": 1,
                "o1:a": 4,
                "o1:b": 2,
                "o2:gate": 0,
                "o2:a": 5,
                "o2:b": 5,
                f"{BASELINE_ID}:gate": 1,
                f"{BASELINE_ID}:a": 1,
            },
            "m2": {
                "o1:gate": 1,
                "o1:a": 2,
                "o1:b": 2,
                "o2:gate": 1,
                "o2:a": 5,
                "o2:b": 5,
                f"{BASELINE_ID}:gate": 1,
                f"{BASELINE_ID}:a": 1,
            },
        },
    )
    return s, v


def test_cells_hold_every_score_and_their_spread() -> None:
    """Each option x criterion cell lists its scores, their mean and their spread."""
    s, v = _scored()
    table = R.cells(s, v)
    assert set(table) == {f"{o}:{n}" for o in ("baseline", "o1", "o2") for n in ("gate", "a", "b")}
    assert list(table)[:3] == ["baseline:gate", "baseline:a", "baseline:b"]
    assert sorted(table["o1:a"].values) == [2, 4]
    assert table["o1:a"].mean == 3.0 and table["o1:a"].spread == 1.0
    assert table["o2:a"].spread == 0.0
    assert table["baseline:b"].mean is None


def test_ranking_weights_scores_and_puts_gate_failures_last() -> None:
    """Options rank by weighted mean; failing a gate (no strict pass majority) ranks last."""
    s, v = _scored()
    standings = {st.option_id: st for st in R.ranking(s, v)}
    o1, o2, base = standings["o1"], standings["o2"], standings[BASELINE_ID]
    assert o1.score == pytest.approx((3.0 * 3 + 2.0 * 1) / 4)
    assert base.score == pytest.approx(1.0)
    assert o2.score == pytest.approx(5.0)
    assert o2.failed_gates == ["gate"] and o2.fails_gate  # one pass in two is no majority
    assert (o1.rank, base.rank, o2.rank) == (1, 2, 3)


def test_cell_mean_and_spread_match_statistics() -> None:
    """The float mean and spread equal ``fmean`` and ``pstdev`` (within 1e-9), thresholds too."""
    import random
    import statistics

    rng = random.Random(7)
    samples = [[rng.randrange(6) for _ in range(rng.randrange(0, 60))] for _ in range(3000)]
    samples += [[0, 3], [1, 2, 3, 4], [0, 0, 5, 5], [2, 2], [5], [], [0, 1] * 20, [1, 4]]
    for values in samples:
        cell = R.Cell("o", "n", values)
        if not values:
            assert cell.mean is None and cell.spread == 0.0
            continue
        assert cell.mean == statistics.fmean(values)
        exact = statistics.pstdev(values) if len(values) > 1 else 0.0
        assert abs(cell.spread - exact) <= 1e-9
        for limit in (1.0, 1.5):
            assert (cell.spread >= limit) == (exact >= limit)
    assert R.Cell("o", "n", [0, 3]).spread == 1.5 and R.Cell("o", "n", [1, 3]).spread == 1.0


def test_ranking_reuses_a_given_table() -> None:
    """``ranking`` with the table from ``cells`` gives the same standings as without."""
    s, v = _scored()
    assert R.ranking(s, v, R.cells(s, v)) == R.ranking(s, v)


def test_consensus_fist_of_five() -> None:
    """Fist-of-five passes when every hand shows at least two fingers."""
    passing = vote(
        "consensus",
        {"m1": {PROPOSAL_KEY: 5}, "m2": {PROPOSAL_KEY: 2}},
        method="fist",
        option_id="o1",
        statement="Go.",
    )
    s = new_session("s1", "q", 1.0)
    round_ = consensus_round(s, passing)
    assert round_.passed and round_.method == "fist" and round_.option_id == "o1"
    assert round_.summary == "2 hands, average 3.5, lowest 2"
    blocking = vote("consensus", {"m1": {PROPOSAL_KEY: 5}, "m2": {PROPOSAL_KEY: 1}}, method="fist")
    blocking.ballots["m2"].reason = "too risky"
    round_ = consensus_round(s, blocking)
    assert not round_.passed and round_.objections == ["too risky"]
    assert not consensus_round(s, vote("consensus", {}, method="fist")).passed


def test_consensus_consent() -> None:
    """Consent passes when nobody objects; standing aside does not block; nobody is no pass."""
    s = new_session("s1", "q", 1.0)
    aside = vote("consensus", {"m1": {PROPOSAL_KEY: 2}, "m2": {PROPOSAL_KEY: 1}}, method="consent")
    round_ = consensus_round(s, aside)
    assert round_.passed and round_.summary == "1 agree, 1 stand aside, 0 object"
    objecting = vote(
        "consensus",
        {"m1": {PROPOSAL_KEY: 2}, "m2": {PROPOSAL_KEY: 0}, "m3": {PROPOSAL_KEY: 0}},
        method="consent",
    )
    objecting.ballots["m2"].reason = "no budget"
    objecting.ballots["m3"].reason = "bad timing"
    round_ = consensus_round(s, objecting)
    assert not round_.passed
    assert round_.objections == ["bad timing", "no budget"]
    assert not consensus_round(s, vote("consensus", {}, method="consent")).passed


def test_anonymous_rows_count_instead_of_keyed_ballots() -> None:
    """A view's anonymous rows are what the results count, not its own keyed ballot."""
    v = vote("dots", {"m1": {"c1": 2}})
    v.anon_ballots = [Ballot({"c1": 2}), Ballot({"c1": 1, "c2": 1})]
    assert R.dot_totals(v) == {"c1": 3, "c2": 1}
    assert R.dots_used(v.ballots["m1"]) == 2 and R.dots_used(None) == 0

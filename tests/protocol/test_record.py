"""The decision record of a full example session, as Markdown and as JSON."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from accord.protocol import commands as C
from accord.protocol.model import BASELINE_ID, PROPOSAL_KEY
from accord.protocol.record import record_data, record_markdown
from accord.protocol.results import ranking
from protocol_support import Board, Roster, standard_board

QUESTION = "Should we partner with Acme, rebuild billing ourselves, or outsource it?"
HIDDEN_REASON = "my private worry about Fran"


@cache
def example() -> tuple[Board, Roster]:
    """A session that goes through all four phases and closes with a decision."""
    board, cast = standard_board(Board(QUESTION))
    fran, (ada, bo, cy) = cast.facilitator, cast.participants
    do = board.do

    # Learn: cards in every lane, a duplicate merged twice over, a dots vote per lane.
    fast = board.new_id(do(ada, C.AddCard(lane="value", text="Ship billing changes weekly")))
    dup = board.new_id(do(cy, C.AddCard(lane="value", text="Release billing more often")))
    dup2 = board.new_id(do(bo, C.AddCard(lane="value", text="Weekly billing releases")))
    cost = board.new_id(do(bo, C.AddCard(lane="no_change", text="Invoice errors cost 40k a year")))
    do(cy, C.AddCard(lane="stakeholders", text="Support wants one tool, not three"))
    value_vote = board.new_id(do(fran, C.OpenVote(kind="dots", lane="value", dots=3)))
    do(ada, C.Cast(vote_id=value_vote, marks={fast: 2, dup: 1}))
    do(bo, C.Cast(vote_id=value_vote, marks={dup2: 3}))
    do(fran, C.RevealVote(vote_id=value_vote))
    do(fran, C.MergeCards(source_id=dup, target_id=dup2))
    do(fran, C.MergeCards(source_id=dup2, target_id=fast))
    cost_vote = board.new_id(do(fran, C.OpenVote(kind="dots", lane="no_change", dots=2)))
    do(cy, C.Cast(vote_id=cost_vote, marks={cost: 2}))
    do(fran, C.RevealVote(vote_id=cost_vote))

    # Needs: proposed by people from three departments, classified, settled and weighted.
    do(fran, C.SetPhase(phase="needs"))
    eu = board.new_id(
        do(
            ada,
            C.AddNeed(text="Data stays in the EU", why="GDPR", success="Audit finds no transfers"),
        )
    )
    cheap = board.new_id(
        do(
            bo,
            C.AddNeed(text="Costs less than today", why="Budget", success="Yearly cost under 300k"),
        )
    )
    tools = board.new_id(do(cy, C.AddNeed(text="One tool for support")))
    classify = board.new_id(do(fran, C.OpenVote(kind="classify", hidden=True)))
    do(ada, C.Cast(vote_id=classify, marks={eu: 2, cheap: 1, tools: 1}))
    do(cy, C.Cast(vote_id=classify, marks={eu: 2, cheap: 1, tools: 0}))
    do(bo, C.Cast(vote_id=classify, marks={eu: 2, cheap: 2, tools: 0}))
    do(fran, C.RevealVote(vote_id=classify))
    do(fran, C.SettleNeed(need_id=eu, cls="must"))
    do(fran, C.SettleNeed(need_id=cheap, cls="optional"))
    do(fran, C.SettleNeed(need_id=tools, cls="not_a_need"))
    do(fran, C.SetWeight(need_id=cheap, weight=4))

    # Options: two options, a partner note, a revealed score vote and a hidden one.
    do(fran, C.SetPhase(phase="options"))
    acme = board.new_id(
        do(
            ada,
            C.AddOption(
                kind="partnership",
                title="Partner with Acme",
                description="Acme runs billing for us",
            ),
        )
    )
    beta = board.new_id(do(bo, C.AddOption(kind="outsourcing", title="Outsource to Beta")))
    do(cast.partner, C.AddNote(option_id=acme, text="Acme hosts in Frankfurt and Dublin"))
    score = board.new_id(do(fran, C.OpenVote(kind="score", hidden=True)))
    for member, marks in (
        (
            ada,
            {
                f"{acme}:{eu}": 1,
                f"{acme}:{cheap}": 4,
                f"{beta}:{eu}": 0,
                f"{beta}:{cheap}": 5,
                f"{BASELINE_ID}:{eu}": 1,
                f"{BASELINE_ID}:{cheap}": 1,
            },
        ),
        (
            bo,
            {
                f"{acme}:{eu}": 1,
                f"{acme}:{cheap}": 3,
                f"{beta}:{eu}": 0,
                f"{beta}:{cheap}": 5,
                f"{BASELINE_ID}:{eu}": 1,
                f"{BASELINE_ID}:{cheap}": 2,
            },
        ),
    ):
        do(member, C.Cast(vote_id=score, marks=marks))
    do(fran, C.RevealVote(vote_id=score))
    rescore = board.new_id(do(fran, C.OpenVote(kind="score", hidden=True)))
    do(cy, C.Cast(vote_id=rescore, marks={f"{beta}:{eu}": 1, f"{beta}:{cheap}": 0}))
    do(fran, C.CloseVote(vote_id=rescore))

    # Decide: an anonymous consent round that fails, a fist-of-five that passes,
    # and a hidden round that is never revealed.
    do(fran, C.SetPhase(phase="decide"))
    do(fran, C.Propose(option_id=acme, statement="We partner with Acme for two years."))
    consent = board.new_id(
        do(fran, C.OpenVote(kind="consensus", method="consent", anonymous=True, hidden=True))
    )
    do(ada, C.Cast(vote_id=consent, marks={PROPOSAL_KEY: 2}))
    do(bo, C.Cast(vote_id=consent, marks={PROPOSAL_KEY: 0}, reason="Acme's exit terms are unclear"))
    do(cy, C.Cast(vote_id=consent, marks={PROPOSAL_KEY: 1}))
    do(fran, C.RevealVote(vote_id=consent))
    do(fran, C.Propose(option_id=acme, statement="We partner with Acme; exit after one year."))
    fist = board.new_id(do(fran, C.OpenVote(kind="consensus", method="fist", hidden=False)))
    for member, hand in ((ada, 5), (bo, 2), (cy, 4), (fran, 4)):
        do(member, C.Cast(vote_id=fist, marks={PROPOSAL_KEY: hand}))
    do(fran, C.RevealVote(vote_id=fist))
    hidden = board.new_id(do(fran, C.OpenVote(kind="consensus", method="consent", hidden=True)))
    do(bo, C.Cast(vote_id=hidden, marks={PROPOSAL_KEY: 0}, reason=HIDDEN_REASON))
    do(fran, C.CloseVote(vote_id=hidden))
    do(
        fran,
        C.RecordDecision(
            option_id=acme,
            statement="We partner with Acme; exit after one year.",
            rationale="Only Acme keeps data in the EU at a cost below today's.",
            dissent="Bo doubts the exit terms and wants them reviewed by legal.",
            review_date="2027-03-31",
        ),
    )
    do(fran, C.CloseSession())
    return board, cast


def test_markdown_has_every_section() -> None:
    """The Markdown record holds every section product.md asks for, in a readable order."""
    md = record_markdown(example()[0].session)
    headings = re.findall(r"^##? .*$", md, flags=re.M)
    assert headings == [
        f"# Decision record: {QUESTION}",
        "## Decision",
        "## Superseded decisions",
        "## Participants",
        "## The big picture",
        "## Needs",
        "## Criteria",
        "## Options",
        "## Scores and ranking",
        "## Consensus rounds",
        "## Changes after the fact",
        "## Dissent",
        "## Review",
    ]
    for needle in (
        "**Partner with Acme**\n\n> We partner with Acme; exit after one year.",
        "- Rests on round 2, which passed.",
        "- Recorded: 2023-11-14 22:14:22 UTC by Fran",
        "- Rationale: Only Acme keeps data in the EU at a cost below today's.",
        "- Review on: 2027-03-31",
        "| Fran | facilitator | Operations |",
        "| Pat | partner | Partner Co |",
        "| Olu | observer | Legal |",
        "Departments: Engineering, Finance, Legal, Operations, Partner Co",
        "### Value we are after",
        "- Ship billing changes weekly (6 dots)",
        "### If nothing changes",
        "- Invoice errors cost 40k a year (2 dots)",
        "### What stakeholders say",
        "- Support wants one tool, not three",
        "| Data stays in the EU | GDPR | Audit finds no transfers | Engineering | must "
        "| 3 / 0 / 0 |",
        "| Costs less than today | Budget | Yearly cost under 300k | Finance | optional "
        "| 1 / 2 / 0 (departments disagree) |",
        "| One tool for support | - | - | Engineering | not a need "
        "| 0 / 1 / 2 (departments disagree) |",
        "### Department lens",
        "- Costs less than today: Engineering: 0/2/0; Finance: 1/0/0",
        "- Data stays in the EU: gate (must pass)",
        "- Costs less than today: weight 4",
        "- **No change** (no change)",
        "  - note from the partner: Acme hosts in Frankfurt and Dublin",
        "| 1 | Partner with Acme | 3.50 | pass |",
        "| 2 | No change | 1.50 | pass |",
        "| 3 | Outsource to Beta | 5.00 | fails: Data stays in the EU |",
        "### Round 1: Partner with Acme, blocked",
        "- Method: consent, anonymous",
        "- Result: 1 agree, 1 stand aside, 1 object; 1 did not answer",
        "- Eligible: Fran, Ada, Bo, Cy",
        "- Did not answer: Fran",
        "- Objection: Acme's exit terms are unclear",
        "### Round 2: Partner with Acme, passed",
        "- Result: 4 hands, average 3.8, lowest 2",
        "- Ada: 5 fingers",
        "- Bo: 2 fingers",
        "### Score matrix",
        "| Partner with Acme | 2 pass / 0 fail | 3.50 (0.50) |",
        "Bo doubts the exit terms and wants them reviewed by legal.",
    ):
        assert needle in md, needle
    assert "Release billing more often" not in md  # merged cards fold into their target
    assert "One tool for support" in md


def test_json_has_every_section() -> None:
    """The JSON record holds the same sections as plain, serialisable data."""
    data = json.loads(json.dumps(record_data(example()[0].session)))
    assert data["question"] == QUESTION and data["closed"] is True
    assert [p["name"] for p in data["participants"]] == ["Fran", "Ada", "Bo", "Cy", "Olu", "Pat"]
    assert {p["department"] for p in data["participants"]} >= {"Engineering", "Finance"}
    assert [v["phase"] for v in data["path"]] == ["needs", "options", "decide"]
    assert {c["lane"] for c in data["cards"]} == {"value", "no_change", "stakeholders"}
    (cheap,) = [n for n in data["needs"] if n["text"] == "Costs less than today"]
    assert cheap["class"] == "optional" and cheap["departments_disagree"] is True
    assert cheap["split"] == {"must": 1, "optional": 2, "not_a_need": 0}
    assert cheap["departments"]["Finance"] == {"must": 1, "optional": 0, "not_a_need": 0}
    assert [(c["gate"], c["weight"]) for c in data["criteria"]] == [(True, 0), (False, 4)]
    assert [r["rank"] for r in data["ranking"]] == [1, 2, 3]
    assert data["ranking"][2]["failed_gates"]
    assert [r["passed"] for r in data["rounds"]] == [False, True]
    assert data["rounds"][0]["objections"] == ["Acme's exit terms are unclear"]
    decision = data["decision"]
    assert decision["option"] == "Partner with Acme"
    assert decision["dissent"].startswith("Bo doubts")
    assert decision["review_date"] == "2027-03-31"
    assert [o["kind"] for o in data["options"]] == ["baseline", "partnership", "outsourcing"]


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_record_leaks_no_ballot_identity() -> None:
    """The record holds no member id, no unrevealed ballot and no hidden round's reason."""
    board, _ = example()
    data = record_data(board.session)
    md = record_markdown(board.session)
    ids = set(board.session.members)
    assert not ids & set(_strings(data))
    assert not any(re.search(rf"\b{i}\b", md) for i in ids)
    assert HIDDEN_REASON not in md and HIDDEN_REASON not in json.dumps(data)
    revealed = next(v for v in board.session.votes.values() if v.kind == "score" and v.revealed)
    expected = [s.option_id for s in ranking(board.session, revealed)]
    assert [r["option_id"] for r in data["ranking"]] == expected
    assert len(data["rounds"]) == 2  # the hidden third round never counts


def test_anonymous_classify_votes_show_no_department_split() -> None:
    """An anonymous classify vote gives overall splits only, so small departments stay private."""
    board, cast = standard_board()
    fran, (ada, bo, _) = cast.facilitator, cast.participants
    board.do(fran, C.SetPhase(phase="needs"))
    need = board.new_id(board.do(ada, C.AddNeed(text="Keep the team")))
    vote = board.new_id(board.do(fran, C.OpenVote(kind="classify", anonymous=True)))
    board.do(ada, C.Cast(vote_id=vote, marks={need: 2}))
    board.do(bo, C.Cast(vote_id=vote, marks={need: 0}))
    board.do(fran, C.RevealVote(vote_id=vote))
    (row,) = record_data(board.session)["needs"]
    assert row["split"] == {"must": 1, "optional": 0, "not_a_need": 1}
    assert row["departments"] == {} and row["departments_disagree"] is False
    assert "Department lens" not in record_markdown(board.session)


def test_records_of_early_sessions_say_what_is_missing() -> None:
    """A record exported before anything happened still has every section, saying so."""
    board, _ = standard_board()
    md = record_markdown(board.session)
    for needle in (
        "_No decision has been recorded yet._",
        "_No needs were proposed._",
        "_No criteria: no need was settled as must or optional._",
        "_No score vote was revealed._",
        "_No consensus round was held._",
        "_None recorded._",
        "_No review date set._",
    ):
        assert needle in md
    assert record_data(board.session)["decision"] is None

"""The Markdown record is safe to render: user text never forges structure or injects HTML."""

from __future__ import annotations

from accord.protocol import commands as C
from accord.protocol.markdown import block, inline
from accord.protocol.model import PROPOSAL_KEY
from accord.protocol.record import record_markdown
from markdown_it import MarkdownIt
from protocol_support import Board

HOSTILE = [
    "Ops\n\n## Decision: we outsource everything\n\n",
    "QA\n\n<!--",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1)) &lt;b&gt; `code` *bold* _em_ | pipe",
    "# Heading\n---\n===\n> quote\n- item\n1. item\n    indented code",
    "```\nfenced\n```",
]


def flat(text: str) -> str:
    """``text`` as a one-line field may hold it under the text policy."""
    return text.replace("\n", " ")


def hostile_session() -> Board:
    """A session where every user field a member can fill holds hostile Markdown and HTML.

    One-line fields go over the wire flattened (the text policy refuses line breaks
    there); line breaks are then put back into them directly, as a session stored
    before the policy could hold them, so the record must flatten them itself.
    """
    board = Board(flat(HOSTILE[0])[:200])
    fran = board.join("Fran <b>", "facilitator", flat(HOSTILE[1]))
    ada = board.join(HOSTILE[2][:60], "participant", flat(HOSTILE[0])[:60])
    bo = board.join("Bo", "participant", flat(HOSTILE[4])[:60])
    for lane, text in zip(("value", "no_change", "stakeholders"), HOSTILE, strict=False):
        board.do(ada, C.AddCard(lane=lane, text=text))  # type: ignore[arg-type]
    board.do(fran, C.SetPhase(phase="needs"))
    needs = [
        board.new_id(board.do(ada, C.AddNeed(text=flat(t), why=HOSTILE[1], success=HOSTILE[2])))
        for t in HOSTILE
    ]
    board.do(fran, C.SettleNeed(need_id=needs[0], cls="must"))
    board.do(fran, C.SettleNeed(need_id=needs[1], cls="optional"))
    board.do(fran, C.EditNeed(need_id=needs[1], text=flat(HOSTILE[5]), why=HOSTILE[3]))
    board.do(fran, C.SetPhase(phase="options"))
    option = board.new_id(
        board.do(
            ada, C.AddOption(kind="other", title=flat(HOSTILE[3])[:200], description=HOSTILE[4])
        )
    )
    board.do(bo, C.AddNote(option_id=option, text=HOSTILE[2]))
    vote = board.new_id(board.do(fran, C.OpenVote(kind="score", hidden=False)))
    board.do(ada, C.Cast(vote_id=vote, marks={f"{option}:{needs[0]}": 1}))
    board.do(fran, C.RevealVote(vote_id=vote))
    board.do(fran, C.SetPhase(phase="decide"))
    board.do(fran, C.Propose(option_id=option, statement=HOSTILE[0] + HOSTILE[1]))
    vote = board.new_id(board.do(fran, C.OpenVote(kind="consensus", method="consent")))
    for member, reason in ((fran, HOSTILE[2]), (ada, HOSTILE[0]), (bo, HOSTILE[1])):
        board.do(member, C.Cast(vote_id=vote, marks={PROPOSAL_KEY: 0}, reason=reason))
    board.do(fran, C.RevealVote(vote_id=vote))
    board.do(
        fran,
        C.RecordDecision(
            option_id=option,
            statement=HOSTILE[4],
            rationale="\n".join(HOSTILE),
            dissent=HOSTILE[1] + HOSTILE[0],
            review_date="2027-01-31",
            without_consensus=True,
        ),
    )
    session = board.session
    session.question = HOSTILE[0][:200]
    session.members[fran].department = HOSTILE[1]
    session.members[ada].department = HOSTILE[0][:60]
    session.needs[needs[0]].text = HOSTILE[0]
    session.options[option].title = HOSTILE[4]
    return board


def _structure(md: str) -> tuple[list[str], list[str]]:
    """The rendered headings (level and text) and the token types that carry raw HTML."""
    tokens = MarkdownIt("commonmark").parse(md)
    headings = [
        f"{tok.tag} {tokens[i + 1].content}"
        for i, tok in enumerate(tokens)
        if tok.type == "heading_open"
    ]
    html = [t.type for t in tokens if t.type in ("html_block", "html_inline")]
    for tok in tokens:
        html += [c.type for c in tok.children or [] if c.type in ("html_block", "html_inline")]
    return headings, html


def test_hostile_fields_cannot_forge_headings_hide_sections_or_inject_html() -> None:
    """Rendered with CommonMark, the hostile record has exactly the record's own headings."""
    md = record_markdown(hostile_session().session)
    headings, html = _structure(md)
    top = [h for h in headings if h.startswith(("h1", "h2"))]
    assert [h.split(" ", 1)[0] for h in top] == ["h1"] + ["h2"] * 12, top
    assert [h.split(" ", 1)[1] for h in top[1:]] == [
        "Decision",
        "Superseded decisions",
        "Participants",
        "The big picture",
        "Needs",
        "Criteria",
        "Options",
        "Scores and ranking",
        "Consensus rounds",
        "Changes after the fact",
        "Dissent",
        "Review",
    ]
    assert html == []
    rendered = MarkdownIt("commonmark").render(md)
    assert "<img" not in rendered and "<!--" not in rendered and "<b>" not in rendered
    assert 'href="javascript' not in rendered
    assert "<pre>" not in rendered and "<code>" not in rendered
    assert rendered.count("<h2>") == 12
    # The text is still there, shown as text.
    assert "&lt;img src=x onerror=" in rendered and "## Decision: we outsource" in rendered


def test_inline_flattens_and_block_quotes() -> None:
    """One-line fields lose their newlines; multi-line fields become quoted lines."""
    assert inline("a\n\n## b") == "a \\#\\# b"
    assert block("# x\n\n- y") == ["> \\# x", ">", "> \\- y"]
    assert block("   ") == ["_(none)_"]

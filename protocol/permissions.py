"""May this role do this? The relay's role tables, asked by the board before it offers a key.

The sets come from ``checks`` (the ones the rules enforce); the board never copies them.
A role allowed here may still be refused for other reasons (phase, a closed vote, an item
that is not yours); a role refused here is always refused by the relay.
"""

from __future__ import annotations

from .checks import CONTRIBUTORS, EVERYONE_ACTIVE, FACILITATOR, VOTERS
from .model import Role

#: What a member may do, by the words the board and the relay use for it.
ABILITIES: dict[str, frozenset[Role]] = {
    "move the board": FACILITATOR,
    "open, reveal or close votes": FACILITATOR,
    "run the timebox": FACILITATOR,
    "reword the question": FACILITATOR,
    "invite people": FACILITATOR,
    "close the session": FACILITATOR,
    "delete or merge items": FACILITATOR,
    "settle a need's class": FACILITATOR,
    "set weights": FACILITATOR,
    "make a proposal": FACILITATOR,
    "record the decision": FACILITATOR,
    "mark themselves ready": EVERYONE_ACTIVE,
    "add notes": EVERYONE_ACTIVE,
    "add cards": CONTRIBUTORS,
    "propose needs": CONTRIBUTORS,
    "add options": CONTRIBUTORS,
    # Editing also needs the item to be yours (or you the facilitator); this is the role part.
    "edit cards, needs and options": CONTRIBUTORS,
    "vote": VOTERS,
}


def may(role: Role, doing: str) -> bool:
    """Whether ``role`` may ever ``doing`` (a key of ``ABILITIES``).

    Raises:
        KeyError: ``doing`` is not a known ability (a bug in the caller).
    """
    return role in ABILITIES[doing]


def why_not(role: Role, doing: str) -> str:
    """One line saying why ``role`` may not ``doing``, or ``""`` when it may."""
    roles = ABILITIES[doing]
    if role in roles:
        return ""
    if roles == FACILITATOR:
        return f"Only the facilitator can {doing}."
    article = "An" if role[0] in "aeiou" else "A"
    return f"{article} {role} cannot {doing}."

"""The relay's refusals in words a person knows, with what to do next.

The relay words its errors for the protocol ("member token", "join code ... not known
here"); a person resuming a session knows neither tokens nor which relay answered.
"""

from __future__ import annotations

#: Part of a relay refusal -> what it means for a person, and what to do.
PLAIN: tuple[tuple[str, str], ...] = (
    (
        "member token is not known here",
        "the relay at this address does not know this session: it is not the relay the "
        "session ran on (another program may have taken its address). Ask the facilitator "
        "for the session's address, then run: accord resume --server ws://HOST:PORT",
    ),
    (
        "did not accept these credentials",
        "the relay at this address did not accept your place in this session; it may not be "
        "the relay the session ran on. Ask the facilitator for the session's address",
    ),
    (
        "did not speak the websocket protocol",
        "something other than an accord relay answers at this address; the session's relay "
        "may have moved or not be running. Ask the facilitator, then press R to try again",
    ),
    (
        "join code is not known here",
        "the relay at this address does not know that join code (codes stop working when "
        "the facilitator issues new ones); check the code and the --server address with "
        "your facilitator",
    ),
    (
        "join code or a member token",
        "the relay expected a join code or your saved place in a session",
    ),
)


def plain_reason(reason: str) -> str:
    """``reason`` from the relay or the client, in words a person knows (unchanged if plain)."""
    lowered = reason.lower()
    for part, words in PLAIN:
        if part in lowered:
            return words
    return reason

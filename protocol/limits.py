"""Size limits shared by the codec, the rules and the relay server."""

from __future__ import annotations

from typing import Final

#: Largest frame a client may send. The server closes with 1009 above it.
MAX_CLIENT_FRAME: Final = 64 * 1024
#: Largest frame the server sends (snapshots of big boards). Clients accept up to this.
MAX_SERVER_FRAME: Final = 8 * 1024 * 1024
#: Deepest msgpack nesting the decoder accepts before refusing the frame.
MAX_DEPTH: Final = 12

# Text caps, in characters.
ID_CHARS: Final = 40
NAME_CHARS: Final = 60
DEPARTMENT_CHARS: Final = 60
SHORT_TEXT_CHARS: Final = 200
TEXT_CHARS: Final = 500
LONG_TEXT_CHARS: Final = 4000
SECRET_CHARS: Final = 128
#: Shortest claim (a client-made token) the relay accepts, counted after normalising.
CLAIM_MIN_CHARS: Final = 32

# List caps, per session.
MAX_MEMBERS: Final = 1000
MAX_CARDS: Final = 500
MAX_NEEDS: Final = 300
MAX_OPTIONS: Final = 40
MAX_NOTES: Final = 400
MAX_VOTES: Final = 200
MAX_ROUNDS: Final = 50
#: Largest number of marks a single ballot may hold (options x criteria for scores).
MAX_MARKS: Final = 2000
MAX_PHASE_HISTORY: Final = 1000
#: How many recent op ids per member the session remembers for idempotent retries.
OP_MEMORY: Final = 256

# Vote parameters.
MAX_DOTS: Final = 99
MAX_WEIGHT: Final = 10
MAX_TIMER_SECONDS: Final = 8 * 3600

# Trust rules (issue 8).
#: Earlier wordings kept per card, need or option; the original always stays, then the latest.
MAX_EDITS: Final = 8
#: Decisions recorded before the current one, kept as superseded; one more is refused.
MAX_SUPERSEDED: Final = 20

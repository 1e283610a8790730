"""Join codes, member tokens and ids: how they are made, shown, normalised and hashed."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets

from accord.protocol import limits as L
from accord.protocol.messages import Secrets

#: No 0/o, 1/l/i: nothing a person can misread or mistype.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
#: 13 characters of a 31-letter alphabet hold 64 bits.
CODE_CHARS = 13
#: Member tokens and the facilitator key are never typed, so they are longer.
TOKEN_CHARS = 32


def _random_text(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_code() -> str:
    """A fresh join code for display, ``xxxx-xxxx-xxxxx``."""
    raw = _random_text(CODE_CHARS)
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def new_token() -> str:
    """A fresh member token or facilitator key (about 160 bits)."""
    return _random_text(TOKEN_CHARS)


def new_session_id() -> str:
    """A fresh session id: short, unguessable enough to be unique, not a secret."""
    return "s" + _random_text(12)


def new_epoch() -> str:
    """A fresh epoch for a session log; it changes only when the log was lost."""
    return "e" + _random_text(12)


def normalise(secret: str) -> str:
    """Codes and tokens compare without case, dashes or spaces."""
    return "".join(secret.split()).replace("-", "").lower()


def digest(secret: str) -> str:
    """The SHA-256 hex digest the store keeps instead of the secret itself."""
    return hashlib.sha256(normalise(secret).encode()).hexdigest()


#: Characters a claim may use (after normalising: lower case, no dashes or spaces).
CLAIM_ALPHABET = frozenset("0123456789abcdefghijklmnopqrstuvwxyz_")
#: A claim must use at least this many different characters...
CLAIM_MIN_DISTINCT = 8
#: ...repeat no character this many times in a row...
CLAIM_MAX_RUN = 8
#: ...and at least this share of its adjacent pairs must differ from each other.
CLAIM_MIN_PAIR_SHARE = 0.5


def claim_problem(claim: str) -> str:
    """Why a client's claim cannot serve as a member token, or ``""`` if it can.

    A claim becomes a member token or a facilitator key, so it must look random:
    long enough, from a plain alphabet, and without the patterns of a made-up
    or counted string. A random 32-character or 40-hex-digit claim fails these
    checks with a probability far below one in a billion.
    """
    text = normalise(claim)
    need = (
        f"claim: needs at least {L.CLAIM_MIN_CHARS} random letters or digits"
        " (not counting dashes and spaces); make a new one"
    )
    if len(text) < L.CLAIM_MIN_CHARS:
        return need
    if not set(text) <= CLAIM_ALPHABET:
        return "claim: use only letters, digits and _ (with optional dashes); make a new one"
    if len(set(text)) < CLAIM_MIN_DISTINCT:
        return "claim: too few different characters to be random; make a new one"
    run = 1
    for a, b in itertools.pairwise(text):
        run = run + 1 if a == b else 1
        if run >= CLAIM_MAX_RUN:
            return "claim: a character repeats too often in a row to be random; make a new one"
    pairs = [text[i : i + 2] for i in range(len(text) - 1)]
    if len(set(pairs)) < CLAIM_MIN_PAIR_SHARE * len(pairs):
        return "claim: it repeats a pattern, so it is not random; make a new one"
    return ""


def claimed_code(claim: str, session_id: str, role: str, generation: int = 0) -> str:
    """The join code for ``role`` of a session created with ``claim``, ``xxxx-xxxx-xxxxx``.

    An HMAC of the session id and role keyed by the claim: the relay can show the
    same codes again to a creator who retries with the same claim, while it keeps
    only their hashes. Knowing a code tells nothing about the claim or other codes.
    """
    message = f"accord code {session_id} {role}"
    if generation:  # codes made by rotate_codes: the seq of its codes_rotated event
        message += f" {generation}"
    mac = hmac.new(normalise(claim).encode(), message.encode(), "sha256")
    number = int.from_bytes(mac.digest(), "big")
    chars = []
    for _ in range(CODE_CHARS):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    raw = "".join(chars)
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def session_secrets(session_id: str, claim: str) -> Secrets:
    """A new session's secrets: random, or the claim and codes derived from it."""
    if not claim:
        return Secrets(
            facilitator_key=new_token(),
            participant_code=new_code(),
            partner_code=new_code(),
            observer_code=new_code(),
        )
    return Secrets(
        facilitator_key=claim,
        participant_code=claimed_code(claim, session_id, "participant"),
        partner_code=claimed_code(claim, session_id, "partner"),
        observer_code=claimed_code(claim, session_id, "observer"),
    )

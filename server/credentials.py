"""Join codes, member tokens and ids: how they are made, shown, normalised and hashed."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from accord.protocol import limits as L

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


def claim_problem(claim: str) -> str:
    """Why a client's claim cannot serve as a member token, or ``""`` if it can."""
    if len(normalise(claim)) < L.CLAIM_MIN_CHARS:
        return (
            f"claim: needs at least {L.CLAIM_MIN_CHARS} characters"
            " (not counting dashes and spaces) of random text"
        )
    return ""


def claimed_code(claim: str, session_id: str, role: str) -> str:
    """The join code for ``role`` of a session created with ``claim``, ``xxxx-xxxx-xxxxx``.

    An HMAC of the session id and role keyed by the claim: the relay can show the
    same codes again to a creator who retries with the same claim, while it keeps
    only their hashes. Knowing a code tells nothing about the claim or other codes.
    """
    mac = hmac.new(normalise(claim).encode(), f"accord code {session_id} {role}".encode(), "sha256")
    number = int.from_bytes(mac.digest(), "big")
    chars = []
    for _ in range(CODE_CHARS):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    raw = "".join(chars)
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"

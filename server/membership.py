"""Membership control on the relay: what removing a member and rotating the codes change.

The rules decide (``remove_member``, ``rotate_codes``); this module works out
the credentials that follow: which grants are revoked, the new join codes, and
the closes of a removed member's connections.
"""

from __future__ import annotations

from accord.protocol.events import CodesRotated, EventBody, MemberRemoved
from accord.protocol.messages import Secrets

from . import credentials
from .store import Append, Grant

#: The roles a join code grants.
CODE_ROLES = ("participant", "partner", "observer")


def rotated_secrets(key: str, session_id: str, seq: int) -> Secrets:
    """The join codes made by the ``codes_rotated`` event at ``seq``, for facilitator ``key``.

    Derived from the facilitator key (an HMAC, as for a claimed create), so the
    relay keeps only their hashes and can show them again for a retried command.
    """
    return Secrets(
        facilitator_key=key,
        participant_code=credentials.claimed_code(key, session_id, "participant", seq),
        partner_code=credentials.claimed_code(key, session_id, "partner", seq),
        observer_code=credentials.claimed_code(key, session_id, "observer", seq),
    )


def code_grants(session_id: str, secrets: Secrets) -> list[tuple[str, Grant]]:
    """The grants (by digest) of a session's three join codes."""
    return [
        (credentials.digest(secrets.participant_code), Grant(session_id, "participant")),
        (credentials.digest(secrets.partner_code), Grant(session_id, "partner")),
        (credentials.digest(secrets.observer_code), Grant(session_id, "observer")),
    ]


def rotation(bodies: list[EventBody], key: str, session_id: str, last_seq: int) -> Secrets | None:
    """The new secrets if ``bodies`` (ending at ``last_seq``) rotate the codes, else None."""
    if not any(isinstance(b, CodesRotated) for b in bodies):
        return None
    return rotated_secrets(key, session_id, last_seq)


def credential_changes(
    bodies: list[EventBody], secrets: Secrets | None, session_id: str, append: Append
) -> list[str]:
    """Record in ``append`` the grants ``bodies`` revoke or add; the removed member ids."""
    removed = [b.member_id for b in bodies if isinstance(b, MemberRemoved)]
    append.revoke_members.extend(removed)
    if secrets is not None:
        append.revoke_codes = True
        # Codes rotated twice in one batch: only the last ones may survive.
        append.grants = [(d, g) for d, g in append.grants if g.member_id] + code_grants(
            session_id, secrets
        )
    return removed

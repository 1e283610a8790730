"""The protocol's error type, its stable error codes and websocket close codes."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from .text import visible


class ErrorCode(StrEnum):
    """Stable machine-readable error codes carried in error frames."""

    BAD_FRAME = "bad_frame"
    BAD_MESSAGE = "bad_message"
    UNKNOWN_TYPE = "unknown_type"
    VERSION = "version"
    TOO_LARGE = "too_large"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    WRONG_PHASE = "wrong_phase"
    NOT_FOUND = "not_found"
    LIMIT = "limit"
    VOTE_CLOSED = "vote_closed"
    INVALID = "invalid"
    CONFLICT = "conflict"
    SESSION_CLOSED = "session_closed"
    RATE_LIMITED = "rate_limited"
    NOT_READY = "not_ready"
    SERVER_ERROR = "server_error"


class CloseCode(IntEnum):
    """Websocket close codes the relay uses, and what a client should do on each."""

    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down: reconnect and resume
    UNSUPPORTED_DATA = 1003  # a text frame: frames are binary msgpack
    POLICY = 1008  # sustained flood after rate-limit errors
    TOO_BIG = 1009  # frame above MAX_CLIENT_FRAME
    INTERNAL = 1011
    UNAUTHORIZED = 4001  # bad or missing credentials: do not retry with the same ones
    HELLO_TIMEOUT = 4002  # no valid hello in time: reconnect and say hello first
    SLOW_CONSUMER = 4003  # outgoing buffer overflowed: reconnect and resume
    SESSION_GONE = 4004  # the session was deleted by an operator
    BAD_HELLO = 4005  # the first frame was not a valid hello/create
    MEMBER_REMOVED = 4006  # the facilitator removed this member: do not reconnect


#: Longest error message kept; longer ones are cut so they always fit an error frame.
MESSAGE_CHARS = 1000


class ProtocolError(Exception):
    """Raised for anything the protocol refuses: bad frames, bad messages, refused commands.

    ``code`` is stable across versions; ``message`` is for people and names the
    offending field when there is one. Messages are cut to ``MESSAGE_CHARS`` and
    follow the text policy (one line; a refused character shows as an escape).
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        message = visible(message)
        if len(message) > MESSAGE_CHARS:
            message = message[: MESSAGE_CHARS - 1] + "…"
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Refusal(ProtocolError):
    """A well-formed command the rules refuse (role, phase, limit, state)."""

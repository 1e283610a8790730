"""Wire messages: the frames a client and the relay exchange."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal

from . import limits as L
from .commands import Command
from .errors import ErrorCode
from .events import Event
from .model import Department, Id, Name, Role, Seq, Session, Stamp
from .schema import Items, Text

Secret = Annotated[str, Text(L.SECRET_CHARS)]
OpId = Annotated[str, Text(L.ID_CHARS, 1)]
ErrorName = Literal[
    "bad_frame",
    "bad_message",
    "unknown_type",
    "version",
    "too_large",
    "unauthorized",
    "forbidden",
    "wrong_phase",
    "not_found",
    "limit",
    "vote_closed",
    "invalid",
    "conflict",
    "session_closed",
    "rate_limited",
    "not_ready",
    "server_error",
]
assert set(ErrorName.__args__) == {c.value for c in ErrorCode}  # type: ignore[attr-defined]


# ---- client to server -------------------------------------------------------


@dataclass(slots=True)
class Create:
    """Create a session and join it as its facilitator."""

    TYPE: ClassVar[str] = "create"
    question: Annotated[str, Text(L.SHORT_TEXT_CHARS, 1)]
    name: Name
    department: Department = ""
    admin_token: Secret = ""
    #: The client's own secret for this create, resent on every retry (see ``Hello.claim``).
    claim: Secret = ""


@dataclass(slots=True)
class Hello:
    """Join with a code, or resume as a member with a token (and last seen seq/epoch)."""

    TYPE: ClassVar[str] = "hello"
    code: Secret = ""
    token: Secret = ""
    name: Annotated[str, Text(L.NAME_CHARS)] = ""
    department: Department = ""
    last_seq: Seq = 0
    epoch: Annotated[str, Text(L.ID_CHARS)] = ""
    #: With a code: the client's own random secret, resent unchanged on every retry of
    #: this join. It becomes the member token, and a retry whose join already happened
    #: resumes that member instead of adding another (``docs/protocol.md`` §4).
    claim: Secret = ""


@dataclass(slots=True)
class Cmd:
    """A command, with the client's op id for acks and idempotent retries."""

    TYPE: ClassVar[str] = "cmd"
    op: OpId
    c: Command


@dataclass(slots=True)
class Ping:
    """Application-level ping; the relay answers with a pong carrying the same n."""

    TYPE: ClassVar[str] = "ping"
    n: Seq = 0


# ---- server to client -------------------------------------------------------


@dataclass(slots=True)
class Secrets:
    """Credentials shown once to the facilitator who created the session."""

    facilitator_key: Secret
    participant_code: Secret
    partner_code: Secret
    observer_code: Secret


@dataclass(slots=True)
class Welcome:
    """The answer to a good hello: who you are, and the session as you may see it."""

    TYPE: ClassVar[str] = "welcome"
    session_id: Id
    member_id: Id
    role: Role
    epoch: Annotated[str, Text(L.ID_CHARS, 1)]
    seq: Seq
    mode: Literal["snapshot", "replay"]
    snapshot: Session | None = None
    token: Secret = ""
    secrets: Secrets | None = None
    online: Annotated[list[Id], Items(L.MAX_MEMBERS)] = field(default_factory=list)
    server_time: Stamp = 0.0


@dataclass(slots=True)
class Ack:
    """A command was applied (or had already been applied, for a retry) at ``seq``."""

    TYPE: ClassVar[str] = "ack"
    op: OpId
    seq: Seq
    duplicate: bool = False
    #: ``rotate_codes`` only: the new join codes (and the facilitator's own key)
    secrets: Secrets | None = None


@dataclass(slots=True)
class Error:
    """A refusal or a problem; ``op`` names the command it answers, if any."""

    TYPE: ClassVar[str] = "error"
    code: ErrorName
    message: Annotated[str, Text(L.LONG_TEXT_CHARS)]
    op: Annotated[str, Text(L.ID_CHARS)] = ""
    fatal: bool = False


@dataclass(slots=True)
class Presence:
    """A member came online or went offline. Not sequenced."""

    TYPE: ClassVar[str] = "presence"
    member_id: Id
    online: bool


@dataclass(slots=True)
class Pong:
    """The answer to a ping."""

    TYPE: ClassVar[str] = "pong"
    n: Seq = 0
    server_time: Stamp = 0.0


ClientMessage = Create | Hello | Cmd | Ping
ServerMessage = Welcome | Event | Ack | Error | Presence | Pong

CLIENT_TYPES: dict[str, type] = {c.TYPE: c for c in (Create, Hello, Cmd, Ping)}
SERVER_TYPES: dict[str, type] = {
    "welcome": Welcome,
    "event": Event,
    "ack": Ack,
    "error": Error,
    "presence": Presence,
    "pong": Pong,
}

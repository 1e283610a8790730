"""accord's network client: a pure state machine under a thin asyncio transport.

``accord.client.state`` holds what one member knows (session, pending commands,
op ids, acks, resume decisions) with no I/O; ``accord.client.transport`` moves
its frames over a reconnecting websocket. The TUI, the demo, the bench and the
tests all use this package through the names below. It never imports Textual.
"""

from __future__ import annotations

from .api import Client
from .state import (
    Applied,
    ClientState,
    CommandChanged,
    CommandFailed,
    CommandState,
    ConnectionFailed,
    LinkChanged,
    LinkKind,
    LinkState,
    Noticed,
    Outgoing,
    PresenceChanged,
    Resync,
    Update,
    Welcomed,
    new_claim,
)
from .transport import TASK_FAILED, Connection, Listener, default_delays, describe_exception

__all__ = [
    "TASK_FAILED",
    "Applied",
    "Client",
    "ClientState",
    "CommandChanged",
    "CommandFailed",
    "CommandState",
    "Connection",
    "ConnectionFailed",
    "LinkChanged",
    "LinkKind",
    "LinkState",
    "Listener",
    "Noticed",
    "Outgoing",
    "PresenceChanged",
    "Resync",
    "Update",
    "Welcomed",
    "default_delays",
    "describe_exception",
    "new_claim",
]

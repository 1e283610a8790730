"""Textual messages between the network worker, the widgets and the board screen.

High-frequency ones are dataclasses with ``can_replace`` (after toolong), so a
burst of events redraws the board once instead of once per event.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.client import LinkState, Outgoing
from accord.protocol.commands import Command
from accord.tui.guide import Severity
from textual.message import Message


@dataclass
class SessionChanged(Message):
    """The session (or who is online) changed; redraw the board from the connection."""

    def can_replace(self, message: Message) -> bool:
        """Any pending redraw is covered by this one."""
        return isinstance(message, SessionChanged)


@dataclass
class LinkUpdated(Message):
    """The link to the relay changed state."""

    state: LinkState

    def can_replace(self, message: Message) -> bool:
        """Only the latest link state matters."""
        return isinstance(message, LinkUpdated)


@dataclass
class CommandUpdated(Message):
    """One of your commands was sent, acknowledged or refused."""

    outgoing: Outgoing


@dataclass
class Notified(Message):
    """Something happened that you should hear about (a toast)."""

    text: str
    severity: Severity = "information"


@dataclass
class ConnectionEnded(Message):
    """The connection stopped for good; ``reason`` says why."""

    reason: str


@dataclass
class TaskFailed(Message):
    """A worker of the app died on an unexpected error; ``detail`` is one line for people."""

    detail: str


@dataclass
class ReconnectAsked(Message):
    """The person asked to start the failed network task again."""


@dataclass
class Submit(Message):
    """A widget asks for a command to be sent; the board screen sends it."""

    command: Command

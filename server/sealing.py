"""Ballots sealed at rest: encrypted with a key kept in a file apart from the database.

The relay needs every ballot in the clear while it runs (to tally, to let a
member change theirs, to project each member's own). What it writes to the
database is sealed instead: the ballot inside each stored ``ballot_cast``
event, and every vote's ballots in stored snapshots. Who voted stays readable
(everyone in the session sees that anyway); what they voted does not, without
the key file.

The cipher is built from the standard library only: HMAC-SHA256 as a PRF in
counter mode for the keystream, and HMAC-SHA256 over the associated data, the
nonce and the ciphertext as the tag (encrypt-then-MAC, separate keys). The
plaintext is padded to a multiple of 64 bytes so sizes say little.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from .private import private_file, write_private

KEY_BYTES = 32
NONCE_BYTES = 16
TAG_BYTES = 32
PAD = 64


class SealError(Exception):
    """A sealed value cannot be opened: wrong or missing key, or damaged data."""


class Sealer:
    """Seals and opens small values with the relay's ballot key, read from its key file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._enc = b""
        self._mac = b""

    @property
    def loaded(self) -> bool:
        """True once the key was read."""
        return bool(self._enc)

    def load(self, create: bool = True) -> None:
        """Read the key; a new random key is written (0600) first if the file is missing.

        Raises:
            SealError: if the file is missing (and ``create`` is False) or not a key.
            OSError: if it cannot be read or written.
        """
        path = self.path
        if not path.exists():
            if not create:
                raise SealError(f"{path}: the ballot key file is missing")
            write_private(path, secrets.token_hex(KEY_BYTES).encode() + b"\n")
        private_file(path)
        text = path.read_text(encoding="ascii", errors="replace").strip()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != KEY_BYTES:
            raise SealError(f"{path}: not a ballot key (expected {KEY_BYTES * 2} hex digits)")
        self._enc = hmac.new(key, b"accord ballot enc", hashlib.sha256).digest()
        self._mac = hmac.new(key, b"accord ballot mac", hashlib.sha256).digest()

    def _need_key(self) -> None:
        if not self._enc:
            raise SealError(f"{self.path}: the ballot key was not loaded")

    def seal(self, data: bytes, context: str) -> str:
        """``data`` encrypted and authenticated for ``context``, as ASCII text.

        Raises:
            SealError: if the key was not loaded.
        """
        self._need_key()
        padded = len(data).to_bytes(4, "big") + data
        padded += bytes(-len(padded) % PAD)
        nonce = os.urandom(NONCE_BYTES)
        body = _xor(padded, self._stream(nonce, len(padded)))
        tag = self._tag(context, nonce, body)
        return base64.b64encode(nonce + body + tag).decode("ascii")

    def open(self, text: str, context: str) -> bytes:
        """The data sealed in ``text`` for ``context``.

        Raises:
            SealError: if the key is wrong, the context differs or the data is damaged.
        """
        self._need_key()
        try:
            raw = base64.b64decode(text.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            raise SealError("a sealed ballot is damaged") from None
        if len(raw) < NONCE_BYTES + TAG_BYTES + 4:
            raise SealError("a sealed ballot is damaged")
        nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
        if not hmac.compare_digest(tag, self._tag(context, nonce, body)):
            raise SealError("a sealed ballot does not open with this key (wrong ballot key file?)")
        padded = _xor(body, self._stream(nonce, len(body)))
        size = int.from_bytes(padded[:4], "big")
        if size > len(padded) - 4:
            raise SealError("a sealed ballot is damaged")
        return padded[4 : 4 + size]

    def _stream(self, nonce: bytes, length: int) -> bytes:
        blocks = []
        for counter in range((length + 31) // 32):
            block = nonce + counter.to_bytes(8, "big")
            blocks.append(hmac.new(self._enc, block, hashlib.sha256).digest())
        return b"".join(blocks)[:length]

    def _tag(self, context: str, nonce: bytes, body: bytes) -> bytes:
        ad = context.encode()
        message = len(ad).to_bytes(4, "big") + ad + nonce + body
        return hmac.new(self._mac, message, hashlib.sha256).digest()


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")

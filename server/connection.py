"""One client's websocket: a hello first, then commands and pings until it closes."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from dataclasses import dataclass

from accord.protocol import codec, text
from accord.protocol import limits as L
from accord.protocol.errors import CloseCode, ErrorCode, ProtocolError, Refusal
from accord.protocol.messages import Cmd, Create, Error, Hello, Ping, Pong
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from . import credentials
from .config import ServerConfig
from .hub import Hub
from .metrics import Metrics
from .ratelimit import TokenBucket
from .session_host import (
    AttachRequest,
    CommandRequest,
    HostGone,
    JoinRequest,
    SessionHost,
)
from .store import Grant, Store, StoreError

log = logging.getLogger("accord.server.connection")


@dataclass(frozen=True, slots=True)
class Services:
    """What a connection handler needs from the relay."""

    config: ServerConfig
    hub: Hub
    store: Store
    metrics: Metrics


class Refused(Exception):
    """The connection must end: an error frame is sent, then a close with ``close_code``."""

    def __init__(self, code: ErrorCode, message: str, close_code: CloseCode) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code


def _op_of(data: bytes) -> str:
    """The op id of a frame the codec refused, if it has a usable one (to answer it)."""
    try:
        frame = codec.unpack(data, L.MAX_CLIENT_FRAME)
    except ProtocolError:
        return ""
    op = frame.get("op") if type(frame) is dict else None
    if type(op) is str and 0 < len(op) <= L.ID_CHARS and text.problem(op) is None:
        return op
    return ""


class ClientHandler:
    """Serves one websocket for its whole life; never lets a client error escape."""

    def __init__(self, conn: ServerConnection, services: Services) -> None:
        self.conn = conn
        self.services = services
        self.config = services.config
        self.metrics = services.metrics
        self.host: SessionHost | None = None
        self.member_id = ""
        self.welcomed = False

    async def serve(self) -> None:
        """Run the connection until it closes, and clean up after it."""
        try:
            await self._hello()
            await self._commands()
        except Refused as refused:
            await self._refuse(refused)
        except ConnectionClosed:
            pass  # the client went away; it resumes when it comes back
        finally:
            if self.host is not None:
                self.host.detach(self.conn)
            if self.welcomed:
                self.metrics.connections.dec()

    async def _refuse(self, refused: Refused) -> None:
        self.metrics.closes.labels(str(int(refused.close_code))).inc()
        log.debug(
            "closing a connection",
            extra={"code": int(refused.close_code), "reason": refused.message},
        )
        try:
            await self._send(Error(code=refused.code.value, message=refused.message, fatal=True))
        except ConnectionClosed:
            return
        closing = asyncio.create_task(
            self.conn.close(int(refused.close_code), refused.message[:120])
        )
        # A flooding client may have filled our receive queue, which pauses reading;
        # discard what it sent so its close frame can arrive and the handshake end.
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self.conn.recv()
        await closing

    async def _send(self, message: object) -> None:
        await self.conn.send(codec.encode(message))

    # ---- hello ---------------------------------------------------------------------

    async def _hello(self) -> None:
        timeout = self.config.hello_timeout
        try:
            async with asyncio.timeout(timeout):
                data = await self.conn.recv()
        except TimeoutError:
            self.metrics.rejected.labels("hello_timeout").inc()
            raise Refused(
                ErrorCode.BAD_MESSAGE, f"say hello within {timeout:g} s", CloseCode.HELLO_TIMEOUT
            ) from None
        if isinstance(data, str):
            self.metrics.rejected.labels("bad_hello").inc()
            raise Refused(
                ErrorCode.BAD_FRAME,
                "frames are binary msgpack, not text",
                CloseCode.UNSUPPORTED_DATA,
            )
        try:
            message = codec.decode_client(data)
        except ProtocolError as exc:
            self.metrics.rejected.labels("bad_hello").inc()
            raise Refused(exc.code, exc.message, CloseCode.BAD_HELLO) from None
        if isinstance(message, Create):
            await self._create(message)
        elif isinstance(message, Hello) and message.token:
            await self._resume(message)
        elif isinstance(message, Hello) and message.code:
            await self._join(message)
        elif isinstance(message, Hello):
            self._unauthorized("say hello with a join code or a member token")
        else:
            self.metrics.rejected.labels("bad_hello").inc()
            raise Refused(
                ErrorCode.BAD_MESSAGE,
                f"the first frame must be create or hello, not {message.TYPE}",
                CloseCode.BAD_HELLO,
            )

    def _unauthorized(self, message: str) -> None:
        self.metrics.rejected.labels("unauthorized").inc()
        raise Refused(ErrorCode.UNAUTHORIZED, message, CloseCode.UNAUTHORIZED)

    def _check_claim(self, claim: str) -> None:
        problem = credentials.claim_problem(claim) if claim else ""
        if problem:
            self.metrics.rejected.labels("bad_hello").inc()
            raise Refused(ErrorCode.BAD_MESSAGE, problem, CloseCode.BAD_HELLO)

    async def _create(self, message: Create) -> None:
        token = self.config.admin_token
        if token and not hmac.compare_digest(message.admin_token.encode(), token.encode()):
            self._unauthorized("this relay needs the operator's admin token to create a session")
        self._check_claim(message.claim)
        try:
            created = await self.services.hub.create(
                message.question, message.name, message.department, message.claim
            )
        except Refusal as refusal:
            if refusal.code is ErrorCode.UNAUTHORIZED:
                self._unauthorized(refusal.message)
            self.metrics.rejected.labels("limit").inc()
            raise Refused(refusal.code, refusal.message, CloseCode.NORMAL) from None
        except StoreError as exc:
            log.error("could not store a new session: %s", exc)
            raise Refused(
                ErrorCode.SERVER_ERROR, "the relay cannot store sessions now", CloseCode.INTERNAL
            ) from None
        request = AttachRequest(
            self.conn,
            created.member_id,
            token=created.secrets.facilitator_key,
            secrets=created.secrets,
        )
        await self._enter(created.host.session.id, request, created.host)

    async def _resume(self, message: Hello) -> None:
        grant = await self._grant(message.token)
        if grant is None or not grant.member_id:
            self._unauthorized("this member token is not known here")
            return
        request = AttachRequest(
            self.conn, grant.member_id, last_seq=message.last_seq, epoch=message.epoch
        )
        await self._enter(grant.session_id, request)

    async def _join(self, message: Hello) -> None:
        grant = await self._grant(message.code)
        if grant is None or grant.member_id:
            self._unauthorized("this join code is not known here")
            return
        if not message.name.strip():
            self.metrics.rejected.labels("bad_hello").inc()
            raise Refused(
                ErrorCode.BAD_MESSAGE, "name: say who you are to join", CloseCode.BAD_HELLO
            )
        claim = message.claim
        self._check_claim(claim)
        held = await self._grant(claim) if claim else None
        if held is not None:
            # A retried join whose first try went through (its welcome was lost):
            # the claim is already this member's token, so resume that member.
            if held.session_id != grant.session_id or not held.member_id:
                self._unauthorized("claim: already in use here; make a new one")
                return
            resume = AttachRequest(
                self.conn,
                held.member_id,
                last_seq=message.last_seq,
                epoch=message.epoch,
                token=claim,
            )
            await self._enter(grant.session_id, resume)
            return
        request = JoinRequest(
            self.conn, message.name.strip(), message.department, grant.role, claim=claim
        )
        await self._enter(grant.session_id, request)

    async def _grant(self, secret: str) -> Grant | None:
        try:
            return await self.services.store.grant(credentials.digest(secret))
        except StoreError as exc:
            log.error("could not check credentials: %s", exc)
            raise Refused(
                ErrorCode.SERVER_ERROR, "the relay cannot read sessions now", CloseCode.INTERNAL
            ) from None

    async def _host(self, session_id: str) -> SessionHost:
        try:
            host = await self.services.hub.get(session_id)
        except StoreError as exc:
            log.error("could not load session %s: %s", session_id, exc)
            raise Refused(
                ErrorCode.SERVER_ERROR, "the relay cannot load this session now", CloseCode.INTERNAL
            ) from None
        if host is None:
            raise Refused(
                ErrorCode.UNAUTHORIZED, "this session no longer exists", CloseCode.SESSION_GONE
            )
        return host

    async def _enter(
        self,
        session_id: str,
        request: AttachRequest | JoinRequest,
        host: SessionHost | None = None,
    ) -> None:
        """Hand the hello to the session; return once the welcome was written."""
        for _ in range(3):  # an idle session may be unloaded just as we arrive: load it again
            host = host or await self._host(session_id)
            try:
                host.submit(request)
            except HostGone:
                host = None
                continue
            break
        if host is None:
            raise Refused(
                ErrorCode.SERVER_ERROR, "this session is unavailable; retry", CloseCode.INTERNAL
            )
        self.host = host  # from here on, this connection may be listening to it
        try:
            self.member_id = await request.done
        except Refusal as refusal:
            self.metrics.rejected.labels(str(refusal.code)).inc()
            raise Refused(refusal.code, refusal.message, CloseCode.NORMAL) from None
        except HostGone as exc:
            raise Refused(ErrorCode.SERVER_ERROR, str(exc), CloseCode.INTERNAL) from None
        self.welcomed = True
        self.metrics.connections.inc()

    # ---- after hello ---------------------------------------------------------------------

    async def _commands(self) -> None:
        assert self.host is not None  # _hello returns only after a welcome
        host = self.host
        bucket = TokenBucket(self.config.rate_limit, self.config.rate_burst)
        async for data in self.conn:
            if isinstance(data, str):
                self.metrics.bad_frames.labels(ErrorCode.BAD_FRAME.value).inc()
                raise Refused(
                    ErrorCode.BAD_FRAME,
                    "frames are binary msgpack, not text",
                    CloseCode.UNSUPPORTED_DATA,
                )
            if not bucket.take():
                if bucket.strikes >= self.config.flood_limit:
                    log.info("closing a flooding connection", extra={"member": self.member_id})
                    raise Refused(ErrorCode.RATE_LIMITED, "too many frames", CloseCode.POLICY)
                error = Error(
                    code=ErrorCode.RATE_LIMITED.value,
                    message=f"slow down: at most {self.config.rate_limit:g} frames a second",
                    op=_op_of(data),
                )
                await self._send(error)
                continue
            try:
                message = codec.decode_client(data)
            except ProtocolError as exc:
                self.metrics.bad_frames.labels(exc.code.value).inc()
                await self._send(Error(code=exc.code.value, message=exc.message, op=_op_of(data)))
                continue
            if isinstance(message, Cmd):
                try:
                    host.submit(CommandRequest(self.conn, self.member_id, message.op, message.c))
                except HostGone as exc:
                    raise Refused(ErrorCode.SERVER_ERROR, str(exc), CloseCode.INTERNAL) from None
            elif isinstance(message, Ping):
                await self._send(Pong(n=message.n, server_time=time.time()))
            else:
                await self._send(
                    Error(
                        code=ErrorCode.BAD_MESSAGE.value,
                        message=f"{message.TYPE}: this connection already said hello",
                    )
                )

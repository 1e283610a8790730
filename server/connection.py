"""One client's websocket: a hello first, then commands and pings until it closes."""

from __future__ import annotations

import asyncio
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
from .admission import client_address
from .closing import CLOSE_DEADLINE, Refused, abort, drain_and_close
from .config import ServerConfig
from .guards import Guards, slow_down
from .hub import Hub
from .metrics import Metrics
from .ratelimit import TokenBucket
from .requests import AttachRequest, CommandRequest, HostGone, JoinRequest
from .session_host import SessionHost
from .store import Grant, Store, StoreError

log = logging.getLogger("accord.server.connection")

#: Seconds the relay may take to answer a hello it received (store, session load, commit).
ANSWER_DEADLINE = 30.0


@dataclass(frozen=True, slots=True)
class Services:
    """What a connection handler needs from the relay."""

    config: ServerConfig
    hub: Hub
    store: Store
    metrics: Metrics
    guards: Guards


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
        self.guards = services.guards
        self.address = client_address(conn, conn.request, self.config.trust_proxy)
        self.host: SessionHost | None = None
        self.member_id = ""
        self.token = ""  # the member token or facilitator key this connection presented
        self.welcomed = False

    async def serve(self) -> None:
        """Run the connection until it closes, and clean up after it."""
        self.metrics.unwelcomed.inc()
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
            else:
                self.metrics.unwelcomed.dec()

    async def _refuse(self, refused: Refused) -> None:
        """Send the fatal error, then close with the code's fixed reason; abort if that stalls."""
        code = refused.close_code
        self.metrics.closes.labels(str(int(code))).inc()
        log.debug("closing a connection", extra={"code": int(code), "error": refused.code.value})
        error = Error(code=refused.code.value, message=refused.message, fatal=True)
        try:
            async with asyncio.timeout(CLOSE_DEADLINE):
                await self._send(error)
        except ConnectionClosed:
            return
        except TimeoutError:  # the client does not read: no polite close is possible
            abort(self.conn)
            return
        await drain_and_close(self.conn, code)

    async def _send(self, message: object) -> None:
        await self.conn.send(codec.encode(message))

    # ---- hello ---------------------------------------------------------------------

    async def _hello(self) -> None:
        """Wait for the first frame and answer it, each with its own deadline."""
        data = await self._first_frame()
        try:
            async with asyncio.timeout(ANSWER_DEADLINE):
                await self._introduce(data)
        except TimeoutError:
            log.warning("a hello was not answered in %g s; closing it", ANSWER_DEADLINE)
            raise Refused(
                ErrorCode.SERVER_ERROR, "the relay is too busy to answer; retry", CloseCode.INTERNAL
            ) from None

    async def _first_frame(self) -> bytes | str:
        timeout = self.config.hello_timeout
        try:
            async with asyncio.timeout(timeout):
                data = await self.conn.recv()
        except TimeoutError:
            self.metrics.rejected.labels("hello_timeout").inc()
            raise Refused(
                ErrorCode.BAD_MESSAGE, f"say hello within {timeout:g} s", CloseCode.HELLO_TIMEOUT
            ) from None
        return data

    async def _introduce(self, data: bytes | str) -> None:
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
        if token:
            wait = self.guards.failed_joins.wait(self.address)
            if wait > 0:
                self._throttled("failed joins", wait)
            if not hmac.compare_digest(message.admin_token.encode(), token.encode()):
                self._failed_join("this relay needs the operator's admin token to create a session")
        self._check_claim(message.claim)
        self._check_disk()
        charged = self.guards.creates.take(self.address)
        if not charged and not await self._retried_create(message.claim):
            self._throttled("creates", self.guards.creates.wait(self.address))
        try:
            created = await self.services.hub.create(
                message.question, message.name, message.department, message.claim
            )
        except Refusal as refusal:
            if charged:
                self.guards.creates.give_back(self.address)
            if refusal.code is ErrorCode.UNAUTHORIZED:
                self._unauthorized(refusal.message)
            self.metrics.rejected.labels("limit").inc()
            raise Refused(refusal.code, refusal.message, CloseCode.NORMAL) from None
        except StoreError as exc:
            log.error("could not store a new session: %s", exc)
            raise Refused(
                ErrorCode.SERVER_ERROR, "the relay cannot store sessions now", CloseCode.INTERNAL
            ) from None
        if created.retried and charged:  # a retry made nothing new: it costs nothing
            self.guards.creates.give_back(self.address)
        self.token = created.secrets.facilitator_key
        request = AttachRequest(
            self.conn,
            created.member_id,
            token=created.secrets.facilitator_key,
            secrets=created.secrets,
        )
        await self._enter(created.host.session.id, request, created.host)

    async def _resume(self, message: Hello) -> None:
        grant = await self._credential(message.token)
        if grant is None or not grant.member_id:
            self._failed_join("this member token is not known here")
            return
        self._snapshot_budget(message)
        self.token = message.token
        request = AttachRequest(
            self.conn, grant.member_id, last_seq=message.last_seq, epoch=message.epoch
        )
        await self._enter(grant.session_id, request)

    async def _join(self, message: Hello) -> None:
        grant = await self._credential(message.code)
        if grant is None or grant.member_id:
            self._failed_join("this join code is not known here; ask the facilitator for a new one")
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
            self._snapshot_budget(message)
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

    def _throttled(self, what: str, wait: float) -> None:
        self.metrics.rejected.labels("rate_limited").inc()
        refusal = slow_down(what, wait)
        log.info("address over a budget", extra={"budget": what, "address": self.address})
        raise Refused(refusal.code, refusal.message, CloseCode.POLICY)

    async def _retried_create(self, claim: str) -> bool:
        """True if ``claim`` already made a session here (a retry, never throttled)."""
        if not claim:
            return False
        grant = await self._grant(claim)
        return grant is not None and grant.role == "facilitator"

    def _check_disk(self) -> None:
        problem = self.guards.disk.problem()
        if problem:
            self.metrics.rejected.labels("disk_full").inc()
            raise Refused(ErrorCode.SERVER_ERROR, problem, CloseCode.INTERNAL)

    async def _credential(self, secret: str) -> Grant | None:
        """What a code or token grants; refused first if this address failed too often."""
        wait = self.guards.failed_joins.wait(self.address)
        if wait > 0:
            self._throttled("failed joins", wait)
        return await self._grant(secret)

    def _failed_join(self, message: str) -> None:
        self.guards.failed_joins.take(self.address)
        self._unauthorized(message)

    def _snapshot_budget(self, message: Hello) -> None:
        """A hello that asks for the whole board (no last_seq) spends the address's budget."""
        if message.last_seq and message.epoch:
            return
        if not self.guards.snapshots.take(self.address):
            self._throttled("full-board requests", self.guards.snapshots.wait(self.address))

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
        self.metrics.unwelcomed.dec()
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
                    host.submit(
                        CommandRequest(self.conn, self.member_id, message.op, message.c, self.token)
                    )
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

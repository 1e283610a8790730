"""Restarts of a relay subprocess: SIGTERM and kill -9 lose no acknowledged event."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from accord.protocol import commands as C
from accord.protocol.messages import Ack, Cmd, Error
from server_support import RelayProcess, WireClient, free_port, new_op
from websockets.exceptions import ConnectionClosed

FAST = ("--rate-limit", "100000", "--rate-burst", "100000")


async def test_sigterm_restart_resumes_without_gap(tmp_path: Path) -> None:
    """After SIGTERM (exit 0, clients closed with 1001) a restart resumes everyone by replay."""
    relay = RelayProcess(tmp_path / "data", free_port())
    await asyncio.to_thread(relay.start)
    try:
        fac = await WireClient.create(relay.url)
        pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
        for n in range(10):
            await pat.ok(C.AddCard(lane="value", text=f"card {n}"))
        await fac.catch_up(pat.seq)
        epoch, seq = fac.epoch, fac.seq

        code, output = await asyncio.to_thread(relay.stop, signal.SIGTERM)
        assert code == 0, output
        assert "Traceback" not in output
        assert await fac.closed() == 1001
        assert await pat.closed() == 1001

        await asyncio.to_thread(relay.start)
        fac2 = await fac.resume()
        pat2 = await pat.resume()
        for client in (fac2, pat2):
            assert client.welcome is not None
            assert client.welcome.mode == "replay" and client.welcome.epoch == epoch
            assert client.seq == seq
        await pat2.ok(C.AddCard(lane="value", text="after restart"))
        await fac2.catch_up(pat2.seq)
        assert fac2.session is not None
        texts = sorted(c.text for c in fac2.session.cards.values())
        assert texts == sorted([f"card {n}" for n in range(10)] + ["after restart"])
    finally:
        if relay.proc is not None and relay.proc.poll() is None:
            await asyncio.to_thread(relay.stop, signal.SIGKILL)


async def test_kill_9_keeps_every_acked_event(tmp_path: Path) -> None:
    """kill -9 mid-stream: every acked command survives, and retries apply the rest exactly once."""
    relay = RelayProcess(tmp_path / "data", free_port(), *FAST)
    await asyncio.to_thread(relay.start)
    try:
        fac = await WireClient.create(relay.url)
        pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
        epoch = pat.epoch
        ops = {new_op(): f"card {n}" for n in range(300)}
        acked: dict[str, int] = {}
        for op, text in ops.items():
            await pat.send(Cmd(op=op, c=C.AddCard(lane="value", text=text)))

        async def collect() -> None:
            with contextlib.suppress(ConnectionClosed):
                while True:
                    message = await pat.recv()
                    if isinstance(message, Ack):
                        acked[message.op] = message.seq
                    assert not isinstance(message, Error), message

        collector = asyncio.create_task(collect())
        for _ in range(500):
            if len(acked) >= 20:
                break
            await asyncio.sleep(0.005)
        code, _ = await asyncio.to_thread(relay.stop, signal.SIGKILL)
        assert code == -signal.SIGKILL
        await asyncio.wait([collector], timeout=5)
        assert collector.done()
        assert acked, "nothing was acked before the kill"

        await asyncio.to_thread(relay.start)
        pat2 = await pat.resume()
        assert pat2.welcome is not None
        assert pat2.welcome.mode == "replay" and pat2.epoch == epoch
        await pat2.catch_up(pat2.welcome.seq)
        assert pat2.session is not None
        assert pat2.seq >= max(acked.values()), "an acked event was lost"
        stored = {c.text for c in pat2.session.cards.values()}
        assert {ops[op] for op in acked} <= stored
        top = pat2.seq
        for op, text in ops.items():  # retry everything unacked with its original op id
            if op not in acked:
                reply = await pat2.cmd(C.AddCard(lane="value", text=text), op=op)
                assert isinstance(reply, Ack), reply
                top = max(top, reply.seq)
        fac2 = await fac.resume()
        await fac2.catch_up(top)
        await pat2.catch_up(top)
        assert fac2.session is not None
        texts = [c.text for c in fac2.session.cards.values()]
        assert sorted(texts) == sorted(ops.values()), "a command was lost or applied twice"
    finally:
        if relay.proc is not None and relay.proc.poll() is None:
            await asyncio.to_thread(relay.stop, signal.SIGKILL)

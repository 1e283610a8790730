"""Transport options: in-process TLS, the Origin check, and compression off by default."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from accord.protocol import codec
from accord.protocol.messages import Create, Welcome
from server_support import RelayFactory, WireClient
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus


def _self_signed(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


async def test_tls_in_process(relay_factory: RelayFactory, tmp_path: Path) -> None:
    """With a cert and key the relay speaks wss:// and a client trusting the cert gets welcomed."""
    cert, key = _self_signed(tmp_path)
    relay = await relay_factory(tls_cert=cert, tls_key=key)
    assert relay.url.startswith("wss://")
    context = ssl.create_default_context(cafile=str(cert))
    async with connect(relay.url, ssl=context, compression=None) as ws:
        await ws.send(codec.encode(Create(question="Over TLS?", name="Fran")))
        assert isinstance(codec.decode_server(await ws.recv(decode=False)), Welcome)
    with pytest.raises(ssl.SSLError):  # an untrusting client refuses the self-signed cert
        await connect(relay.url, ssl=ssl.create_default_context(), open_timeout=5)


async def test_origin_check(relay_factory: RelayFactory) -> None:
    """With origins configured a foreign browser Origin gets 403; terminals (no Origin) pass."""
    relay = await relay_factory(origins=["https://board.example"])
    with pytest.raises(InvalidStatus) as refused:
        await connect(relay.url, origin="https://evil.example", open_timeout=5)  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403
    ok = await connect(relay.url, origin="https://board.example", open_timeout=5)  # type: ignore[arg-type]
    await ok.close()
    terminal = await WireClient.create(relay.url)
    assert terminal.welcome is not None


async def test_compression_off_by_default(relay_factory: RelayFactory) -> None:
    """A client offering deflate gets no compression unless the relay turns it on."""
    plain = await relay_factory()
    async with connect(plain.url) as ws:  # offers permessage-deflate by default
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
    squeezed = await relay_factory(compression=True)
    async with connect(squeezed.url) as ws:
        assert ws.response is not None
        assert "permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", "")

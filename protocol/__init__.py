"""accord's pure core: wire messages, codec, session model, rules and views.

Nothing in this package performs I/O or imports asyncio, websockets or textual,
so the relay server and every client apply events with exactly the same code.
"""

from __future__ import annotations

__version__ = "0.1.0"
PROTOCOL_VERSION = 2

__all__ = ["PROTOCOL_VERSION", "__version__"]

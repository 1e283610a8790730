"""Logging set-up: human lines for people, JSON lines for machines."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from accord.protocol.text import visible

#: Attributes every LogRecord has; anything else was passed in ``extra``.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a JSON line."""
        data: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(_extras(record))
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


class HumanFormatter(logging.Formatter):
    """``time level message key=value ...``: short and greppable.

    Message and values are escaped (``\\x1b``): a log line never carries a
    client's control characters to the operator's terminal.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as one readable line."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        extras = " ".join(f"{k}={visible(str(v))}" for k, v in _extras(record).items())
        line = f"{stamp} {record.levelname.lower():7} {visible(record.getMessage())}"
        if extras:
            line = f"{line}  {extras}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def configure(level: str = "info", as_json: bool = False) -> None:
    """Send accord's and websockets' logs to stderr in the chosen format.

    websockets logs each refused handshake at info; those stay visible at
    debug only, so a port scanner cannot flood the log.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else HumanFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    ws_level = logging.DEBUG if level == "debug" else logging.WARNING
    logging.getLogger("websockets").setLevel(ws_level)

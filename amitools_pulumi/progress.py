"""Progress messages from the provider to the Pulumi CLI, at a bounded rate.

The dynamic provider runs as `python -m pulumi.dynamic ENGINE_ADDRESS`, a
process in which `pulumi.log` has no engine and would only print to stderr.
This module sends messages to the engine address that the engine passed on
the command line, so they show in `pulumi up` output. Elsewhere (unit tests,
plain Python) they go to the standard logging module.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import time
from typing import Any

logger = logging.getLogger(__name__)

# At most one progress message per image in this many seconds.
MIN_INTERVAL_SECONDS = 30.0


@functools.cache
def _engine() -> Any | None:
    main = sys.argv[0] if sys.argv else ""
    if not main.endswith(os.path.join("pulumi", "dynamic", "__main__.py")):
        return None
    if len(sys.argv) < 2:
        return None

    import grpc
    from pulumi.runtime.proto import engine_pb2_grpc

    channel = grpc.insecure_channel(sys.argv[1])
    return engine_pb2_grpc.EngineStub(channel)


def info(message: str) -> None:
    """Send `message` to the Pulumi CLI as an info diagnostic, or to logging."""
    logger.info("%s", message)
    _send("INFO", message)


def warn(message: str) -> None:
    """Send `message` to the Pulumi CLI as a warning, or to logging."""
    logger.warning("%s", message)
    _send("WARNING", message)


def _send(severity: str, message: str) -> None:
    engine = _engine()
    if engine is None:
        return

    from pulumi.runtime.proto import engine_pb2

    try:
        engine.Log(
            engine_pb2.LogRequest(
                severity=getattr(engine_pb2, severity), message=message
            )
        )
    except Exception as error:  # noqa: BLE001 - a message must never fail a copy
        logger.debug("could not send a message to the engine: %s", error)


class RateLimitedReporter:
    """Send progress messages, dropping those that come too soon after the last."""

    def __init__(self, interval: float = MIN_INTERVAL_SECONDS) -> None:
        self.interval = interval
        self._last_sent: float | None = None
        self._lock = threading.Lock()

    def is_due(self) -> bool:
        """Tell whether a message sent now would go out."""
        with self._lock:
            return (
                self._last_sent is None
                or time.monotonic() - self._last_sent >= self.interval
            )

    def report(self, message: str, *, force: bool = False) -> bool:
        """Send `message` unless one was sent less than `interval` ago.

        Returns whether the message was sent.
        """
        now = time.monotonic()
        with self._lock:
            due = self._last_sent is None or now - self._last_sent >= self.interval
            if not (due or force):
                return False
            self._last_sent = now
        info(message)
        return True

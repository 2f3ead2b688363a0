"""Print results on their way to the server: kept in order until the server acknowledges each one."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("civicqueue.agent")


class Transport(Protocol):
    """The part of the Socket.IO connection the outbox needs."""

    @property
    def connected(self) -> bool: ...

    def emit(self, event: str, data: dict, callback: Callable | None = None) -> None: ...


class ResultOutbox:
    """One result in flight at a time, so results arrive in order; resent after a reconnect or a lost ack."""

    def __init__(self, transport: Transport, ack_timeout: float = 15.0, clock: Callable[[], float] = time.monotonic):
        self.transport, self.ack_timeout, self.clock = transport, ack_timeout, clock
        self._pending: deque[dict] = deque()
        self._in_flight: tuple[object, float] | None = None  # (attempt, sent at)
        self._lock = threading.Lock()

    @property
    def pending(self) -> list[dict]:
        with self._lock:
            return list(self._pending)

    def add(self, result: dict) -> None:
        with self._lock:
            self._pending.append(result)
        self.flush()

    def flush(self) -> None:
        """Send the oldest result unless one is already waiting for its ack or there is no connection."""
        with self._lock:
            if not self._pending or self._in_flight or not self.transport.connected:
                return
            result, attempt = self._pending[0], object()
            self._in_flight = (attempt, self.clock())
        try:
            self.transport.emit("print_result", result, callback=lambda *answer: self._acked(attempt, answer))
        except Exception as exc:  # the connection went away between the check and the emit
            log.info("result for job %s not sent (%s); kept for the next connection", result.get("job"), exc)
            self._forget(attempt)

    def connection_lost(self) -> None:
        """An ack that has not come by now never will: the result goes out again on the next connection."""
        with self._lock:
            self._in_flight = None

    def tick(self) -> None:
        """Resend when the server has not acknowledged within ack_timeout (its handler may have failed)."""
        with self._lock:
            stale = self._in_flight and self.clock() - self._in_flight[1] > self.ack_timeout
            if stale:
                self._in_flight = None
        if stale:
            self.flush()

    def _acked(self, attempt: object, answer: tuple) -> None:
        with self._lock:
            if not self._in_flight or self._in_flight[0] is not attempt:
                return  # the ack of a send that was given up on; its result went out again
            self._in_flight = None
            result = self._pending.popleft()
        reply = answer[0] if answer else None
        if not (isinstance(reply, dict) and reply.get("ok") is True):
            # Sending the same result again would get the same answer, and would hold up every later one.
            log.warning("server did not accept the result of job %s: %r; dropped", result.get("job"), reply)
        self.flush()

    def _forget(self, attempt: object) -> None:
        with self._lock:
            if self._in_flight and self._in_flight[0] is attempt:
                self._in_flight = None

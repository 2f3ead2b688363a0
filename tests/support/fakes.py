"""Fakes over mocks: a clock the test moves, and a publisher that records what would be emitted."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


class FakeClock:
    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, **delta) -> datetime:
        with self._lock:
            self.now += timedelta(**delta)
            return self.now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self.now = moment


class RecordingPublisher:
    def __init__(self):
        self.events = []
        self._lock = threading.Lock()

    def __call__(self, events) -> None:
        with self._lock:
            self.events.extend(events)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

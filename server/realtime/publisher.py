"""Publishing after commit: use cases hand over their domain events; a background task emits them in
commit order, then one `state` per office and namespace for the whole batch (coalescing under load)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict

from server.services.uow import DomainEvent

from . import office_room, socketio, ticket_room
from .payloads import build
from .registry import registry
from .snapshots import BUILDERS, _office, status_state

log = logging.getLogger(__name__)
STATE_DELAY = 0.15  # seconds between a batch of deltas and the state that follows it


class Publisher:
    """Non-blocking for the request: events go into a queue that one background task drains in order."""

    def __init__(self, app, *, always_state: bool = False, state_delay: float = STATE_DELAY):
        self.app = app
        self.always_state = always_state  # with a message queue, other processes' clients are unknown here
        self.state_delay = state_delay
        self.queue: queue.Queue = queue.Queue()
        self._started = False
        self._lock = threading.Lock()
        self._dirty: set[str] = set()  # offices whose `state` is due
        self._state_due = threading.Event()
        self._state_busy = False

    def __call__(self, events: list[DomainEvent]) -> None:
        if not self._started:
            self._started = True
            socketio.start_background_task(self._run)
            socketio.start_background_task(self._run_state)
        self.queue.put(list(events))

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until everything submitted so far has been emitted, states included (tests, shutdown)."""
        self.queue.join()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._dirty and not self._state_busy:
                    return
            socketio.sleep(0.01)

    def _run(self) -> None:
        while True:
            batches = [self.queue.get()]
            while True:
                try:
                    batches.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.emit([e for batch in batches for e in batch])
            except Exception:  # a failing emit must never stop the publisher
                log.exception("publishing %d event batch(es) failed", len(batches))
            finally:
                for _ in batches:
                    self.queue.task_done()

    def emit(self, events: list[DomainEvent]) -> None:
        by_office: OrderedDict[str, list[DomainEvent]] = OrderedDict()
        for event in events:
            by_office.setdefault(event.office, []).append(event)
        for office, office_events in by_office.items():
            for event in office_events:
                for namespace, name, payload in build(event):
                    socketio.emit(name, payload, namespace=namespace, to=office_room(office))
        with self._lock:
            self._dirty.update(by_office)
        self._state_due.set()

    def _run_state(self) -> None:
        """The full `state` trails the deltas: calls reach the screens first, and a burst of changes
        costs one state per office (a database read and one message per client) instead of many."""
        while True:
            self._state_due.wait()
            socketio.sleep(self.state_delay)
            with self._lock:
                offices, self._dirty = self._dirty, set()
                self._state_due.clear()
                self._state_busy = True
            try:
                for office in offices:
                    self._emit_state(office)
            except Exception:
                log.exception("publishing the state of %s failed", ", ".join(sorted(offices)))
            finally:
                with self._lock:
                    self._state_busy = False

    def _emit_state(self, office_slug: str) -> None:
        wanted = [ns for ns in BUILDERS if self.always_state or registry.watched(ns, office_slug)]
        tickets = registry.tickets(office_slug)
        if not wanted and not tickets:
            return
        ctx = self.app.extensions["civicqueue"]
        base_url = self.app.config.get("QMS_PUBLIC_URL", "")
        states, statuses = {}, {}
        with ctx.db.snapshot_session() as session:
            office = _office(session, office_slug)
            if office is None:
                return
            now = ctx.clock()
            for ns in wanted:
                states[ns] = BUILDERS[ns](session, office, now, base_url)
            for token in tickets:
                statuses[token] = status_state(session, office, token, now, base_url)
        for ns, state in states.items():
            socketio.emit("state", state, namespace=ns, to=office_room(office_slug))
        for token, status in statuses.items():
            if status is not None:
                socketio.emit("state", status, namespace="/status", to=ticket_room(token))

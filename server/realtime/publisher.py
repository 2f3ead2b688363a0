"""Publishing after commit: use cases hand over their domain events; a background task emits them in
commit order, then one `state` per office and namespace for the whole batch (coalescing under load).

The deltas go to every process's clients (through the message queue, if there is one). The `state` snapshots
are built by each process for its own clients only, and only for the namespaces and status pages they watch:
the process that committed tells the others which offices changed (`notify`), and each builds what its own
clients need and sends it to them alone. Nobody watching an office's counters means no counter snapshot.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from server.services.lookup import office_named
from server.services.uow import DomainEvent

from . import office_room, socketio, ticket_room
from .payloads import build
from .registry import registry
from .snapshots import BUILDERS, recent_snapshots, status_state

log = logging.getLogger(__name__)
STATE_DELAY = 0.15  # seconds between a batch of deltas and the state that follows it


class Publisher:
    """Non-blocking for the request: events go into a queue that one background task drains in order."""

    def __init__(self, app, *, state_delay: float = STATE_DELAY, always_state: bool = False):
        self.app = app
        self.state_delay = state_delay
        # Other processes learn which offices changed through `notify` (see module docstring). A message queue
        # that cannot carry that note leaves `always_state`: every snapshot built here, sent to all processes.
        self.always_state = always_state
        self.notify: Callable[[set[str]], None] | None = None
        self.queue: queue.Queue = queue.Queue()
        self._started = False
        self._lock = threading.Lock()
        self._dirty: set[str] = set()  # offices whose `state` is due
        self._state_due = threading.Event()
        self._state_busy = False

    def __call__(self, events: list[DomainEvent]) -> None:
        self._start()
        self.queue.put(list(events))

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        socketio.start_background_task(self._run)
        socketio.start_background_task(self._run_state)

    def state_due(self, offices: Iterable[str]) -> None:
        """These offices changed (on another process, or while events may have been missed): this process's
        clients of them get a fresh `state` with the next batch."""
        self._start()
        with self._lock:
            self._dirty.update(offices)
        self._state_due.set()

    def resync_all(self) -> None:
        """A fresh `state` for every office this process has clients of (after a message-queue outage)."""
        self.state_due(registry.offices())

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
        if self.notify is not None and by_office:
            try:
                self.notify(set(by_office))
            except Exception:  # the message queue is away; its own reconnect resyncs the other processes
                log.exception("telling the other processes about %s failed", ", ".join(by_office))

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
            office = office_named(session, office_slug)
            if office is None:
                return
            now = ctx.clock()
            recent = recent_snapshots(self.app)
            for ns in wanted:
                states[ns] = BUILDERS[ns](session, office, now, base_url)
                recent.put(ns, office_slug, office.seq, states[ns])  # for the screens that connect next
            for token in tickets:
                statuses[token] = status_state(session, office, token, now, base_url)
        local = not self.always_state  # each process sends its own clients their snapshots
        for ns, state in states.items():
            socketio.emit("state", state, namespace=ns, to=office_room(office_slug), ignore_queue=local)
        for token, status in statuses.items():
            if status is not None:
                socketio.emit("state", status, namespace="/status", to=ticket_room(token), ignore_queue=local)

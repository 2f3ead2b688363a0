"""Publishing after commit: use cases hand over their domain events; a background task emits them in
commit order, then one `state` per office and namespace for the whole batch (coalescing under load)."""

from __future__ import annotations

import logging
import queue
from collections import OrderedDict

from server.services.uow import DomainEvent

from . import office_room, socketio, ticket_room
from .payloads import build
from .registry import registry
from .snapshots import BUILDERS, _office, status_state

log = logging.getLogger(__name__)


class Publisher:
    """Non-blocking for the request: events go into a queue that one background task drains in order."""

    def __init__(self, app, *, always_state: bool = False):
        self.app = app
        self.always_state = always_state  # with a message queue, other processes' clients are unknown here
        self.queue: queue.Queue = queue.Queue()
        self._started = False

    def __call__(self, events: list[DomainEvent]) -> None:
        if not self._started:
            self._started = True
            socketio.start_background_task(self._run)
        self.queue.put(list(events))

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until everything submitted so far has been emitted (for tests and shutdown)."""
        self.queue.join()

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
            self._emit_state(office)

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
                states[ns] = (BUILDERS[ns](session, office, now, base_url) if ns == "/counter"
                              else BUILDERS[ns](session, office, now))
            for token in tickets:
                statuses[token] = status_state(session, office, token, now, base_url)
        for ns, state in states.items():
            socketio.emit("state", state, namespace=ns, to=office_room(office_slug))
        for token, status in statuses.items():
            if status is not None:
                socketio.emit("state", status, namespace="/status", to=ticket_room(token))

"""The one place that emits Socket.IO events, and only for committed changes."""

from __future__ import annotations

import logging

from flask_socketio import SocketIO

from server.services.uow import DomainEvent

from .payloads import build

log = logging.getLogger(__name__)

socketio = SocketIO()
NAMESPACES = ("/display", "/counter", "/kiosk")


def office_room(slug: str) -> str:
    return f"office:{slug}"


def publish(events: list[DomainEvent]) -> None:
    """Emit committed domain events to every client of their office (in any process, via the queue)."""
    for event in events:
        for namespace, name, payload in build(event):
            try:
                socketio.emit(name, payload, namespace=namespace, to=office_room(event.office))
            except Exception:  # a broken message queue must not fail the request that already committed
                log.exception("could not emit %s seq=%s", name, event.seq)

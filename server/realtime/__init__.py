"""The one place that emits Socket.IO events, and only for committed changes."""

from __future__ import annotations

from flask_socketio import SocketIO

socketio = SocketIO()
NAMESPACES = ("/display", "/counter", "/kiosk", "/status", "/supervisor")


def office_room(slug: str) -> str:
    return f"office:{slug}"


def ticket_room(token: str) -> str:
    return f"ticket:{token}"

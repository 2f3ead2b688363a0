"""Devices' own rooms: a revoked kiosk or display is told so and cut off at once."""

from __future__ import annotations

import logging

from socketio import PubSubManager

from . import socketio

log = logging.getLogger(__name__)
DEVICE_NAMESPACES = ("/display", "/kiosk")  # where kiosk pages, displays and kiosk agents connect
REVOKED = {"code": "device_revoked", "message": "this device has been revoked; an administrator must pair it again"}


def device_room(device_id: int) -> str:
    return f"device:{device_id}"


def cut_off(device_ids: list[int]) -> int:
    """After the revocation's commit: `revoked` to the device's connections to this process, which are then
    disconnected; then `revoked` through the message queue for its connections to other processes (their
    clients leave on it; a client that ignores it keeps its socket until it reconnects and is refused).
    Returns how many connections were cut here."""
    server, cut = socketio.server, 0
    for device_id in device_ids:
        room = device_room(device_id)
        for namespace in DEVICE_NAMESPACES:
            # Locally first: through the queue the message would come back after the disconnect.
            server.emit("revoked", REVOKED, namespace=namespace, to=room, ignore_queue=True)
            for sid, _eio_sid in list(server.manager.get_participants(namespace, room)):
                server.disconnect(sid, namespace=namespace, ignore_queue=True)
                cut += 1
            if isinstance(server.manager, PubSubManager):  # a message queue: the other processes
                server.emit("revoked", REVOKED, namespace=namespace, to=room)
    log.info("revoked device(s) %s: %d live connection(s) cut", device_ids, cut)
    return cut

"""Pairing against a live server process: a display paired by code over HTTP, connected over a websocket, is
cut off within a second of its revocation and refused when it tries again with the same token."""

from __future__ import annotations

import queue
import threading
import time

import pytest
import requests
import socketio

from tests.support.server_proc import ServerProcess

pytestmark = pytest.mark.slow


def admin_post(server: ServerProcess, path: str, **body) -> requests.Response:
    return requests.post(f"{server.url}/api/v1{path}", json=body or None, timeout=5,
                         headers={"Authorization": f"Bearer {server.tokens['ADMIN']}"})


def pair_display(server: ServerProcess, name: str) -> str:
    """Add a display as the admin, then pair it with its code as the device would (no token in between)."""
    made = admin_post(server, "/offices/mitte/devices", name=name, kind="display")
    assert made.status_code == 201, made.text
    paired = requests.post(f"{server.url}/api/v1/pair", json={"code": made.json()["pairing"]["code"]}, timeout=5)
    assert paired.status_code == 200, paired.text
    return paired.json()["token"]


class Display:
    """A python-socketio client on /display that records `revoked` and the moment it was disconnected."""

    def __init__(self, url: str, token: str):
        self.events: queue.Queue = queue.Queue()
        self.gone = threading.Event()
        self.gone_at = 0.0
        self.client = socketio.Client(reconnection=False)
        self.client.on("snapshot", lambda data: self.events.put(("snapshot", data)), namespace="/display")
        self.client.on("revoked", lambda data: self.events.put(("revoked", data)), namespace="/display")
        self.client.on("disconnect", self._disconnected, namespace="/display")
        self.client.connect(url, namespaces=["/display"], auth={"token": token}, transports=["websocket"],
                            wait_timeout=5)

    def _disconnected(self, *reason):
        self.gone_at = time.perf_counter()
        self.gone.set()

    def received(self, name: str, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if got[0] == name:
                return got[1]
        raise AssertionError(f"no {name} within {timeout}s")


def test_a_revoked_display_is_cut_off_within_a_second_and_refused_on_reconnect(server):
    token = pair_display(server, "anzeige-flur")
    display = Display(server.url, token)
    try:
        assert display.received("snapshot")["office"]["slug"] == "mitte"
        sent = time.perf_counter()
        revoked = admin_post(server, "/offices/mitte/devices/anzeige-flur/revoke")
        assert revoked.status_code == 200, revoked.text
        assert display.gone.wait(2.0), "the revoked display is still connected"
        elapsed = display.gone_at - sent
        print(f"\ndisconnected {elapsed * 1000:.1f} ms after the revoke request was sent")
        assert elapsed < 1.0
        assert display.received("revoked", timeout=0.5)["code"] == "device_revoked"
    finally:
        display.client.disconnect()

    again, reasons = socketio.Client(reconnection=False), []
    again.on("connect_error", reasons.append, namespace="/display")
    with pytest.raises(socketio.exceptions.ConnectionError):
        again.connect(server.url, namespaces=["/display"], auth={"token": token}, transports=["websocket"],
                      wait_timeout=5)
    assert [r["data"]["code"] for r in reasons] == ["unauthorized"]


def test_a_connected_display_shows_its_last_contact_to_the_admin(server):
    token = pair_display(server, "anzeige-halle")
    display = Display(server.url, token)
    try:
        display.received("snapshot")
        devices = requests.get(f"{server.url}/api/v1/offices/mitte/devices", timeout=5,
                               headers={"Authorization": f"Bearer {server.tokens['ADMIN']}"}).json()
        seen = next(d for d in devices if d["name"] == "anzeige-halle")
        assert seen["last_seen"] is not None
    finally:
        display.client.disconnect()

"""A real python-socketio client over a websocket against a real server process (gevent)."""

import queue
import time

import pytest
import requests
import socketio

from tests.support.server_proc import ServerProcess

pytestmark = pytest.mark.slow


def listen(url: str, namespace: str, auth: dict) -> tuple[socketio.Client, queue.Queue]:
    inbox: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False)
    for name in ("snapshot", "ticket_called", "queue_changed", "state"):
        client.on(name, lambda data, name=name: inbox.put((name, data, time.perf_counter())), namespace=namespace)
    client.connect(url, namespaces=[namespace], auth=auth, transports=["websocket"], wait_timeout=5)
    return client, inbox


def next_message(inbox: queue.Queue, name: str, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = inbox.get(timeout=max(0.01, deadline - time.monotonic()))
        if got[0] == name:
            return got
    raise AssertionError(f"no {name} within {timeout}s")


def post(server, path, token, **body):
    return requests.post(f"{server.url}/api/v1{path}", json=body or None, timeout=5,
                         headers={"Authorization": f"Bearer {server.tokens[token]}"})


def test_websocket_client_gets_snapshot_then_the_call(server):
    client, inbox = listen(server.url, "/display", {"token": server.tokens["DISPLAY"]})
    try:
        _, snap, _ = next_message(inbox, "snapshot")
        assert snap["office"]["slug"] == "mitte"
        post(server, "/offices/mitte/tickets", "KIOSK", service="meldewesen")
        sent = time.perf_counter()
        assert post(server, "/offices/mitte/counters/schalter-3/call-next", "CLERK").status_code == 200
        _, call, arrived = next_message(inbox, "ticket_called")
        assert (call["code"], call["counter"], call["seq"]) == ("B001", "schalter-3", snap["seq"] + 3)
        assert arrived - sent < 1.0
        _, state, _ = next_message(inbox, "state")
        assert state["calls"][0]["code"] == "B001"
    finally:
        client.disconnect()


def test_connection_without_auth_is_refused(server):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, namespaces=["/counter"], transports=["websocket"], wait_timeout=5)


def test_a_change_the_client_never_heard_of_shows_as_a_seq_gap(server, tmp_path):
    """Two processes without a message queue: a change made through the other one leaves a gap that a
    client detects (and answers with `resync`, which returns a snapshot containing the change)."""
    other = ServerProcess(tmp_path, server.env["QMS_DATABASE_URL"]).start()
    client, inbox = listen(server.url, "/display", {"token": server.tokens["DISPLAY"]})
    try:
        _, snap, _ = next_message(inbox, "snapshot")
        requests.post(f"{other.url}/api/v1/offices/mitte/tickets", json={"service": "ausweis"}, timeout=5,
                      headers={"Authorization": f"Bearer {server.tokens['KIOSK']}"})
        post(server, "/offices/mitte/tickets", "KIOSK", service="ausweis")
        _, delta, _ = next_message(inbox, "queue_changed")
        assert delta["seq"] == snap["seq"] + 2  # seq + 1 never arrived here
        client.emit("resync", namespace="/display")
        _, fresh, _ = next_message(inbox, "snapshot")
        assert fresh["seq"] >= delta["seq"]
        assert {w["service"]: w["waiting"] for w in fresh["waiting"]}["ausweis"] == 2
    finally:
        client.disconnect()
        other.stop()

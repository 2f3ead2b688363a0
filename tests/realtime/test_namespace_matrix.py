"""Who may connect to which Socket.IO namespace: every namespace x anonymous, each device kind, each role, and
accounts of another office. Like the REST role matrix, it is written out from DESIGN.md, and a test fails when
a namespace is added without an entry here."""

from __future__ import annotations

import pytest

from server.realtime import socketio
from tests.api.helpers import ROLES

#                anon  admin admin_mitte supervisor clerk agent kiosk display clerk_nord supervisor_nord kiosk_nord
MATRIX = {
    "/display": "no    yes   yes         yes        yes   no    yes   yes     no         no              no",
    "/kiosk":   "no    yes   yes         yes        yes   no    yes   no      no         no              no",
    "/counter": "no    yes   yes         yes        yes   no    no    no      no         no              no",
    "/supervisor": "no yes   yes         yes        no    no    no    no      no         no              no",
}
CASES = [pytest.param(ns, role, allowed == "yes", id=f"{ns}-{role}")
         for ns, line in MATRIX.items() for role, allowed in zip(ROLES, line.split(), strict=True)]


@pytest.mark.parametrize(("namespace", "role", "allowed"), CASES)
def test_office_namespaces(app, tokens, namespace, role, allowed):
    auth = {"office": "mitte"} | ({"token": tokens[role]} if role != "anon" else {})
    client = socketio.test_client(app, namespace=namespace, auth=auth)
    assert client.is_connected(namespace) is allowed
    if allowed:
        names = [m["name"] for m in client.get_received(namespace)]
        assert names[:1] == ["snapshot"]


@pytest.mark.parametrize("role", ROLES)
def test_the_status_namespace_needs_only_the_tickets_own_token(app, api, tokens, role):
    ticket = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"}).get_json()
    token = ticket["status_url"].rsplit("/", 1)[1]
    extra = {"token": tokens[role]} if role != "anon" else {}
    assert socketio.test_client(app, namespace="/status", auth={"ticket": token} | extra).is_connected("/status")
    assert not socketio.test_client(app, namespace="/status", auth={"ticket": "guess"} | extra).is_connected(
        "/status")
    assert not socketio.test_client(app, namespace="/status", auth=extra).is_connected("/status")


def test_an_agent_connection_needs_a_kiosk_device_token(app, tokens):
    for role in ROLES:
        auth = {"agent": "test"} | ({"token": tokens[role]} if role != "anon" else {})
        client = socketio.test_client(app, namespace="/kiosk", auth=auth)
        assert client.is_connected("/kiosk") is (role in ("kiosk", "kiosk_nord")), role


def test_every_namespace_is_in_the_matrix(app):
    registered = set(socketio.server.namespace_handlers)
    assert registered == set(MATRIX) | {"/status"}

"""Socket-level behaviour with Flask-SocketIO's test client: snapshot, ordered deltas, state, auth."""

import pytest

from server.realtime import socketio


@pytest.fixture
def publisher(app):
    return app.extensions["civicqueue_publisher"]


def connect(app, namespace, **auth):
    """Connect after everything already committed has been published, so the snapshot comes alone."""
    app.extensions["civicqueue_publisher"].flush()
    return socketio.test_client(app, namespace=namespace, auth=auth or None)


def received(client, namespace):
    return [(m["name"], m["args"][0]) for m in client.get_received(namespace)]


def test_display_gets_a_snapshot_on_connect(app, tokens, api):
    api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"})
    client = connect(app, "/display", token=tokens["display"])
    assert client.is_connected("/display")
    [(name, snap)] = received(client, "/display")
    assert name == "snapshot"
    assert snap["seq"] == 1
    assert snap["office"]["slug"] == "mitte" and snap["office"]["name"] == "Bürgerbüro Mitte"
    assert snap["calls"] == []
    counts = {w["service"]: w["waiting"] for w in snap["waiting"]}
    assert counts == {"ausweis": 1, "meldewesen": 0, "abholung": 0, "beglaubigung": 0}


def test_deltas_follow_in_commit_order_then_state(app, tokens, api, publisher):
    client = connect(app, "/display", token=tokens["display"])
    received(client, "/display")
    api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis", "lang": "tr"})
    called = api.post("/offices/mitte/counters/schalter-2/call-next", "clerk").get_json()
    publisher.flush()
    messages = received(client, "/display")
    deltas = [(name, m["seq"]) for name, m in messages if name != "state"]
    assert deltas == [("queue_changed", 1), ("queue_changed", 2), ("ticket_called", 3)]
    call = next(m for name, m in messages if name == "ticket_called")
    assert call == {"seq": 3, "office": "mitte", "code": "A001", "counter": "schalter-2", "counter_name": "Schalter 2",
                    "service": "ausweis", "recall": False, "lang": "tr", "at": called["called_at"]}
    states = [m for name, m in messages if name == "state"]
    assert states and states[-1]["seq"] == 3
    assert states[-1]["calls"][0]["code"] == "A001"


def test_recall_is_a_call_with_recall_true(app, tokens, api, publisher):
    api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"})
    tid = api.post("/offices/mitte/counters/schalter-1/call-next", "clerk").get_json()["id"]
    client = connect(app, "/display", token=tokens["display"])
    received(client, "/display")
    api.post(f"/tickets/{tid}/recall", "clerk")
    publisher.flush()
    [call] = [m for name, m in received(client, "/display") if name == "ticket_called"]
    assert call["recall"] is True and call["code"] == "A001"


def test_resync_sends_a_fresh_snapshot(app, tokens, api):
    client = connect(app, "/kiosk", token=tokens["kiosk"])
    received(client, "/kiosk")
    api.post("/offices/mitte/tickets", "kiosk", json={"service": "abholung"})
    client.emit("resync", namespace="/kiosk")
    snaps = [m for name, m in received(client, "/kiosk") if name == "snapshot"]
    assert snaps[-1]["seq"] == 1
    assert {s["slug"]: s["waiting"] for s in snaps[-1]["services"]}["abholung"] == 1


def test_refused_transition_emits_nothing(app, tokens, api, publisher):
    tid = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"}).get_json()["id"]
    publisher.flush()
    client = connect(app, "/counter", token=tokens["clerk"], office="mitte")
    received(client, "/counter")
    assert api.post(f"/tickets/{tid}/finish", "clerk").status_code == 409
    publisher.flush()
    assert received(client, "/counter") == []


@pytest.mark.parametrize(("namespace", "role", "auth", "allowed"), [
    ("/display", None, {}, False),
    ("/display", "display", {}, True),
    ("/display", "kiosk_nord", {"office": "mitte"}, False),
    ("/display", "clerk", {"office": "mitte"}, True),
    ("/kiosk", "kiosk", {}, True),
    ("/kiosk", "display", {}, False),
    ("/counter", "kiosk", {}, False),
    ("/counter", "display", {}, False),
    ("/counter", "clerk", {"office": "mitte"}, True),
    ("/counter", "clerk", {"office": "nord"}, False),
    ("/counter", "clerk_nord", {"office": "mitte"}, False),
    ("/counter", "admin", {}, False),  # a city-wide admin must say which office
    ("/counter", "admin", {"office": "nord"}, True),
])
def test_who_may_connect(app, tokens, namespace, role, auth, allowed):
    if role:
        auth = {"token": tokens[role], **auth}
    client = socketio.test_client(app, namespace=namespace, auth=auth)
    assert client.is_connected(namespace) is allowed


def test_a_bad_token_is_refused(app):
    client = socketio.test_client(app, namespace="/display", auth={"token": "cq_nonsense"})
    assert not client.is_connected("/display")


def test_status_follows_one_ticket(app, api, publisher):
    ticket = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"}).get_json()
    token = ticket["status_url"].rsplit("/", 1)[1]
    publisher.flush()
    client = socketio.test_client(app, namespace="/status", auth={"ticket": token})
    [(name, snap)] = received(client, "/status")
    assert name == "snapshot" and snap["ticket"]["state"] == "waiting" and snap["ticket"]["position"] == 1
    api.post("/offices/mitte/counters/schalter-3/call-next", "clerk")
    publisher.flush()
    states = [m for name, m in received(client, "/status") if name == "state"]
    assert states[-1]["ticket"]["state"] == "called" and states[-1]["ticket"]["counter_name"] == "Schalter 3"
    assert not socketio.test_client(app, namespace="/status", auth={"ticket": "nope"}).is_connected("/status")


def test_payload_shapes_are_pinned(app, tokens, api, publisher):
    """Clients rely on these keys; a change here is a change of the contract."""
    kiosk = connect(app, "/kiosk", token=tokens["kiosk"])
    counter = connect(app, "/counter", token=tokens["clerk"], office="mitte")
    [(_, ksnap)] = received(kiosk, "/kiosk")
    [(_, csnap)] = received(counter, "/counter")
    assert set(ksnap) == {"seq", "office", "services"}
    assert {"slug", "name", "names", "waiting", "estimate", "issuing", "closed_reason"} <= set(ksnap["services"][0])
    assert set(csnap) == {"seq", "office", "counters", "services", "queue", "printers"}
    assert set(csnap["queue"]) == {"waiting", "called", "serving", "parked"}
    assert {"slug", "name", "state", "services", "next"} <= set(csnap["counters"][0])
    api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"})
    publisher.flush()
    [delta] = [m for name, m in received(counter, "/counter") if name == "queue_changed"]
    assert set(delta) == {"seq", "office", "kind", "ticket"}
    assert set(delta["ticket"]) == {"id", "code", "service", "state", "counter", "counter_name", "target_counter",
                                    "call_count", "created_at", "called_at", "started_at", "lang"}
    assert (delta["kind"], delta["ticket"]["state"]) == ("issued", "waiting")


def test_print_outcomes_reach_kiosk_and_counter_with_their_shapes(app, tokens, api, publisher, sqlite_ctx):
    """The kiosk matches `print.id` with the ticket on screen; the counter shows the printer's fault."""
    from server.services.printing import set_printer

    set_printer(sqlite_ctx, "mitte", "t-kiosk", {"backend": "usb", "paper": 80, "timeout": 1.0})  # no agent
    kiosk = connect(app, "/kiosk", token=tokens["kiosk"])
    counter = connect(app, "/counter", token=tokens["clerk"], office="mitte")
    received(kiosk, "/kiosk"), received(counter, "/counter")
    ticket = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"}).get_json()
    assert app.extensions["civicqueue_spooler"].wait_idle()
    publisher.flush()
    deltas = [m for name, m in received(kiosk, "/kiosk") if name == "queue_changed"]
    [failed] = [d for d in deltas if d["kind"] == "print_failed"]
    assert set(failed) == {"seq", "office", "kind", "print"}
    assert failed["print"]["id"] == ticket["print"]["id"] and failed["print"]["error"]["code"] == "agent_offline"
    assert {"id", "office", "ticket", "device", "backend", "state", "error", "attempts", "reprint", "created_at",
            "updated_at", "printed_at"} == set(failed["print"])
    [status] = [d for d in deltas if d["kind"] == "printer_status"]
    assert status["device"] == {"name": "t-kiosk", "printer": {"backend": "usb", "status": "offline",
                                                               "detail": status["device"]["printer"]["detail"],
                                                               "checked_at": status["device"]["printer"]["checked_at"]}}
    [state] = [m for name, m in received(counter, "/counter") if name == "state"][-1:]
    [printer] = state["printers"]
    assert printer["device"] == "t-kiosk" and printer["last_error"]["code"] == "agent_offline"
    assert printer["last_error"]["ticket"] == ticket["code"]


def test_state_is_built_only_for_watched_namespaces_and_other_processes_are_told(app, tokens, api, publisher,
                                                                                 monkeypatch):
    """Each process builds the snapshots its own clients need; the other processes learn which offices changed
    (with Redis, through the message queue) and build theirs."""
    from server.realtime import namespaces as namespaces_module
    from server.realtime import publisher as publisher_module
    from server.realtime.registry import Registry

    fresh = Registry()  # clients of earlier tests may still be counted in the process-wide one
    monkeypatch.setattr(namespaces_module, "registry", fresh)
    monkeypatch.setattr(publisher_module, "registry", fresh)
    built, told = [], []
    for ns, builder in list(publisher_module.BUILDERS.items()):
        monkeypatch.setitem(publisher_module.BUILDERS, ns,
                            lambda *args, ns=ns, builder=builder: built.append(ns) or builder(*args))
    monkeypatch.setattr(publisher, "notify", told.append)
    client = connect(app, "/display", token=tokens["display"])
    received(client, "/display")
    api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"})
    publisher.flush()
    assert told == [{"mitte"}]
    assert set(built) == {"/display"}  # no kiosk, counter or supervisor is connected: their snapshots are not built
    assert [name for name, _ in received(client, "/display")][:1] == ["queue_changed"]

    publisher.state_due(["mitte"])  # as when another process changed the office
    publisher.flush()
    [(name, state)] = received(client, "/display")
    assert name == "state" and state["waiting"][0]["waiting"] == 1
    assert told == [{"mitte"}]  # a note from elsewhere is not passed on again


def test_displays_connecting_together_share_one_snapshot_until_the_office_changes(app, tokens, api, monkeypatch):
    from server.realtime import snapshots

    builds = []

    def counting(*args, **kwargs):
        builds.append(1)
        return snapshots.display_state(*args, **kwargs)

    monkeypatch.setitem(snapshots.BUILDERS, "/display", counting)
    first, second = (connect(app, "/display", token=tokens["display"]) for _ in range(2))
    [(_, a)], [(_, b)] = received(first, "/display"), received(second, "/display")
    assert len(builds) == 1 and a == b and a["seq"] == 0
    api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"})  # the office's seq moves on
    third = connect(app, "/display", token=tokens["display"])  # after the state pushed to the first two
    [(_, c)] = received(third, "/display")
    assert len(builds) == 2 and c["seq"] == 1  # the pushed state, built once, is the third one's snapshot
    assert {w["service"]: w["waiting"] for w in c["waiting"]}["ausweis"] == 1
    app.extensions["civicqueue_recent_snapshots"].reuse_seconds = 0  # too old now
    fourth = connect(app, "/display", token=tokens["display"])
    [(_, d)] = received(fourth, "/display")
    assert len(builds) == 3 and d["seq"] == 1


def test_a_snapshot_is_reused_only_while_the_seq_holds_and_for_a_short_while():
    from server.realtime.snapshots import RecentSnapshots

    now = [100.0]
    recent = RecentSnapshots(clock=lambda: now[0], reuse_seconds=2.0)
    assert recent.get("/display", "mitte", 5) is None
    recent.put("/display", "mitte", 5, {"seq": 5})
    assert recent.get("/display", "mitte", 5) == {"seq": 5}
    assert recent.get("/display", "mitte", 6) is None  # the office changed since
    assert recent.get("/display", "nord", 5) is None and recent.get("/kiosk", "mitte", 5) is None
    now[0] += 2.5
    assert recent.get("/display", "mitte", 5) is None  # too old: estimates move with time
    recent.put("/counter", "mitte", 5, {"seq": 5})  # few clients each: always built afresh
    assert recent.get("/counter", "mitte", 5) is None

"""Every event dict sent to clients is built here (tests/realtime pins each shape).

One delta per committed domain event and namespace, so each namespace sees every seq exactly once:
/display gets `ticket_called` for calls and `queue_changed` for everything else; /counter and /kiosk get
`queue_changed`. After each batch of deltas the publisher sends a `state` with the full current view.
"""

from __future__ import annotations

from server.services.uow import DomainEvent

CALLS = {"called", "recalled"}
TICKET_FIELDS = ("id", "code", "service", "state", "counter", "counter_name", "target_counter", "call_count",
                 "created_at", "called_at", "started_at", "lang")


def called(event: DomainEvent) -> dict:
    t = event.data["ticket"]
    return {"seq": event.seq, "office": event.office, "code": t["code"], "counter": t["counter"],
            "counter_name": t["counter_name"], "service": t["service"], "recall": event.kind == "recalled",
            "lang": t["lang"], "at": t["called_at"] if event.kind == "called" else None}


def changed(event: DomainEvent) -> dict:
    out = {"seq": event.seq, "office": event.office, "kind": event.kind}
    ticket = event.data.get("ticket")
    if ticket:
        out["ticket"] = {k: ticket.get(k) for k in TICKET_FIELDS}
    if "counter" in event.data:
        out["counter"] = event.data["counter"]
    if "service" in event.data:
        out["service"] = event.data["service"]
    for key in ("print", "device"):  # print outcomes and printer status (kiosk and counter)
        if key in event.data:
            out[key] = event.data[key]
    return out


def build(event: DomainEvent) -> list[tuple[str, str, dict]]:
    """(namespace, event name, payload) for one committed domain event."""
    display = ("ticket_called", called(event)) if event.kind in CALLS and event.data.get("ticket") else (
        "queue_changed", changed(event))
    delta = changed(event)
    return [("/display", *display), ("/counter", "queue_changed", delta), ("/kiosk", "queue_changed", delta)]

"""Every event dict sent to clients is built here."""

from __future__ import annotations

from server.services.uow import DomainEvent

CALLS = {"called", "recalled"}


def build(event: DomainEvent) -> list[tuple[str, str, dict]]:
    """(namespace, event name, payload) for one committed domain event; every payload carries seq."""
    base = {"seq": event.seq, "office": event.office}
    out = []
    ticket = event.data.get("ticket")
    if event.kind in CALLS and ticket:
        called = base | {"code": ticket["code"], "counter": ticket["counter"], "counter_name": ticket["counter_name"],
                         "service": ticket["service"], "recall": event.kind == "recalled",
                         "lang": ticket["lang"]}
        out += [("/display", "ticket_called", called), ("/counter", "ticket_called", called)]
    change = base | {"kind": event.kind}
    if ticket:
        change["ticket"] = {k: ticket[k] for k in ("id", "code", "service", "state", "counter")}
    if "counter" in event.data:
        change["counter"] = event.data["counter"]
    out += [(ns, "queue_changed", change) for ns in ("/display", "/counter", "/kiosk")]
    return out

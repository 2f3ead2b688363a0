"""Small helpers shared by the API tests: issuing and calling through the API, error checks, state snapshots."""

from __future__ import annotations

from urllib.parse import urlparse

# Every token the `tokens` fixture makes, plus "anon" (no Authorization header), in matrix column order.
ROLES = ("anon", "admin", "admin_mitte", "supervisor", "clerk", "agent", "kiosk", "display",
         "clerk_nord", "supervisor_nord", "kiosk_nord")


def as_role(role: str) -> str | None:
    return None if role == "anon" else role


def body_text(resp) -> str:
    return resp.get_data(as_text=True)[:500]


def assert_error(resp, status: int, code: str) -> dict:
    """The response is `status` with the contract's error shape and this snake_case code; returns the error."""
    assert resp.status_code == status, f"expected {status} {code}, got {resp.status_code}: {body_text(resp)}"
    assert resp.is_json, f"error response is not JSON: {resp.content_type} {body_text(resp)}"
    body = resp.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    return error


def issue(api, service: str = "ausweis", role: str = "kiosk", office: str = "mitte", **fields) -> dict:
    resp = api.post(f"/offices/{office}/tickets", role, json={"service": service, **fields})
    assert resp.status_code == 201, body_text(resp)
    return resp.get_json()


def call_next(api, counter: str = "schalter-1", role: str = "clerk", office: str = "mitte") -> dict:
    resp = api.post(f"/offices/{office}/counters/{counter}/call-next", role)
    assert resp.status_code == 200, body_text(resp)
    return resp.get_json()


def act(api, ticket_id: int, action: str, role: str = "clerk", expect: int = 200, **json) -> dict:
    resp = api.post(f"/tickets/{ticket_id}/{action}", role, json=json or None)
    assert resp.status_code == expect, body_text(resp)
    return resp.get_json()


def queue(api, office: str = "mitte") -> dict:
    resp = api.get(f"/offices/{office}/queue", "admin")
    assert resp.status_code == 200, body_text(resp)
    return resp.get_json()


def waiting_codes(api, office: str = "mitte") -> list[str]:
    return [t["code"] for t in queue(api, office)["waiting"]]


def find_ticket(api, ticket_id: int, office: str = "mitte") -> dict | None:
    """The ticket as the queue shows it (None once it has left the queue)."""
    for tickets in queue(api, office).values():
        for t in tickets:
            if t["id"] == ticket_id:
                return t
    return None


def counter_states(api, office: str = "mitte") -> dict[str, str]:
    resp = api.get(f"/offices/{office}/counters", "admin")
    assert resp.status_code == 200, body_text(resp)
    return {c["slug"]: c["state"] for c in resp.get_json()}


def office_seqs(api) -> dict[str, int]:
    """Each office's event sequence number: it moves on every committed change."""
    resp = api.get("/offices", "admin")
    assert resp.status_code == 200, body_text(resp)
    return {o["slug"]: o["seq"] for o in resp.get_json()}


def snapshot(api) -> dict:
    """What a refused request must leave alone, read with the city-wide admin token. The offices' event seqs
    move on every committed change; the queues and counters show what a change would have done."""
    return {"seq": office_seqs(api), "queue/mitte": queue(api, "mitte"), "queue/nord": queue(api, "nord"),
            "counters/mitte": api.get("/offices/mitte/counters", "admin").get_json()}


def public_token(ticket: dict) -> str:
    path = urlparse(ticket["status_url"]).path
    assert path.startswith("/t/"), ticket["status_url"]
    return path.removeprefix("/t/")

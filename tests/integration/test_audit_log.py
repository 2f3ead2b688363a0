"""The audit log on each database: append-only in the database itself, and read back filtered, scoped and paged."""

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from server.auth.users import add_user
from server.db.models import AuditEntry, Office
from server.services import audit
from server.services.audit_reads import list_entries
from server.services.errors import Forbidden
from server.services.uow import SYSTEM, Actor


def office_ids(ctx) -> dict[str, int]:
    with ctx.db.read_session() as session:
        return {o.slug: o.id for o in session.scalars(select(Office))}


def test_the_audit_log_is_append_only_in_the_database(ctx):
    audit.record(ctx, SYSTEM, "service.create", target="mitte", details={"status": 201})
    for stmt in (update(AuditEntry).values(action="tampered"), delete(AuditEntry)):
        with ctx.db.write_session() as session, pytest.raises(DBAPIError) as info:
            session.execute(stmt)
            session.commit()
        assert "append-only" in str(info.value)
    with ctx.db.read_session() as session:
        assert [(e.action, e.details) for e in session.scalars(select(AuditEntry))] == [
            ("service.create", {"status": 201})]


def test_entries_read_back_filtered_scoped_and_paged(ctx, clock):
    ids = office_ids(ctx)
    supervisor = Actor(role="supervisor", name="anna", office_ids=frozenset({ids["mitte"]}))
    audit.record(ctx, SYSTEM, "counter.open", office_id=ids["mitte"], target="mitte/schalter-1",
                 details={"status": 200, "name": "Schalter 1 – Ausweis"})
    clock.advance(days=1)
    audit.record(ctx, SYSTEM, "counter_open", office_id=ids["nord"], target="nord/platz-1")
    audit.record(ctx, SYSTEM, "ticket.finish", office_id=ids["mitte"], target="ticket 7", ip="2001:db8::1")

    everything = list_entries(ctx, SYSTEM)
    assert [e["action"] for e in everything["entries"]] == ["ticket.finish", "counter_open", "counter.open"]
    assert everything["entries"][2]["details"] == {"status": 200, "name": "Schalter 1 – Ausweis"}
    assert everything["entries"][0]["ip"] == "2001:db8::1" and everything["next_before"] is None
    assert [e["target"] for e in list_entries(ctx, SYSTEM, action="counter.")["entries"]] == ["mitte/schalter-1"]
    assert [e["office"] for e in list_entries(ctx, SYSTEM, office="nord")["entries"]] == ["nord"]
    day_two = list_entries(ctx, SYSTEM, date_from=clock().date(), date_to=clock().date())
    assert [e["action"] for e in day_two["entries"]] == ["ticket.finish", "counter_open"]
    assert [e["action"] for e in list_entries(ctx, supervisor)["entries"]] == ["ticket.finish", "counter.open"]
    with pytest.raises(Forbidden):
        list_entries(ctx, supervisor, office="nord")
    first = list_entries(ctx, SYSTEM, limit=2)
    rest = list_entries(ctx, SYSTEM, limit=2, before_id=first["next_before"])
    assert [e["id"] for e in first["entries"] + rest["entries"]] == [e["id"] for e in everything["entries"]]
    assert rest["next_before"] is None


def test_a_supervisor_sees_their_own_sign_ins_but_not_other_peoples(ctx):
    ids = office_ids(ctx)
    anna = Actor(role="supervisor", name="anna", office_ids=frozenset({ids["mitte"]}),
                 user_id=add_user(ctx, "anna", "supervisor", "correct horse", ["mitte"]))
    bob = Actor(role="clerk", name="bob", office_ids=frozenset({ids["mitte"]}),
                user_id=add_user(ctx, "bob", "clerk", "battery staple", ["mitte"]))
    for actor in (anna, bob):
        audit.record(ctx, actor, "login", ip="192.0.2.1")  # a sign-in names no office
    audit.record(ctx, None, "login_failed", name="anna", ip="192.0.2.66")
    assert [(e["actor"], e["action"]) for e in list_entries(ctx, anna)["entries"]] == [("anna", "login")]
    assert [e["actor"] for e in list_entries(ctx, SYSTEM, user="anna")["entries"]] == ["anna", "anna"]
